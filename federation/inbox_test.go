package federation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// TestInboxErrorsBecomeStatuses: an Inbox refuses with a domain error and
// the sender gets the status of its sentinel and the reason given, over
// real HTTP; any other error is a 500 that shows nothing of its cause. In
// every case the activity id is forgotten, so the sender's retry is
// processed again.
func TestInboxErrorsBecomeStatuses(t *testing.T) {
	node := startServer(t, "lima", "", nil)
	sender := newRemote(t, "mastodon", "mastodon-actor")
	cases := []struct {
		err  error
		code int
		say  string // in the answer
	}{
		{fmt.Errorf("%w: the note has no content", federation.ErrMalformed), http.StatusBadRequest, "the note has no content"},
		{fmt.Errorf("%w: only members may post", federation.ErrForbidden), http.StatusForbidden, "only members may post"},
		{fmt.Errorf("%w: a commitment needs a name", federation.ErrRejected), http.StatusUnprocessableEntity, "a commitment needs a name"},
		{fmt.Errorf("%w: the store is busy", federation.ErrUnavailable), http.StatusServiceUnavailable, "the store is busy"},
		{errors.New("mongo: connection refused on 10.0.0.7"), http.StatusInternalServerError, "could not process the activity"},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(c.code), func(t *testing.T) {
			node.received.handle(func(context.Context, *federation.Activity) error { return c.err })
			note := sender.base + fmt.Sprintf("/notes/%d", i)
			create, _ := json.Marshal(map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams",
				"id":       sender.base + fmt.Sprintf("/activities/refused-%d", i), "type": "Create", "actor": sender.actorID,
				"object": map[string]any{"id": note, "type": "Note", "attributedTo": sender.actorID, "content": "x"},
			})
			code, msg := sender.post(t, node.InboxID(), create, nil)
			if code != c.code || !strings.Contains(msg, c.say) {
				t.Errorf("answer %d %s, want %d with %q", code, msg, c.code, c.say)
			}
			if strings.Contains(msg, "10.0.0.7") {
				t.Errorf("the internal cause reached the sender: %s", msg)
			}
			handled := make(chan string, 1)
			node.received.handle(func(_ context.Context, a *federation.Activity) error {
				handled <- a.ObjectID
				return nil
			})
			if code, msg := sender.post(t, node.InboxID(), create, nil); code != http.StatusAccepted {
				t.Fatalf("the retry: %d %s", code, msg)
			}
			select {
			case got := <-handled:
				if got != note {
					t.Errorf("the retry handled %s, want %s", got, note)
				}
			default:
				t.Error("the retry was taken for a duplicate and not handled")
			}
		})
	}
}

// TestRedeliveryAfterRestartIsDeduped: the inbox's dedupe is the record
// in the store, not this process's memory: a server restarted on the same
// store answers a redelivered activity 202 without handing it to the Inbox
// again, and still hands on an activity it has not seen.
func TestRedeliveryAfterRestartIsDeduped(t *testing.T) {
	db := storetest.DB(t)
	first := startServer(t, "lima", "", db)
	sender := newRemote(t, "mastodon", "mastodon-actor")
	create := func(n int) []byte {
		body, _ := json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams",
			"id":       sender.base + fmt.Sprintf("/activities/restart-%d", n), "type": "Create", "actor": sender.actorID,
			"object": map[string]any{"id": sender.base + fmt.Sprintf("/notes/restart-%d", n), "type": "Note", "attributedTo": sender.actorID, "content": "x"},
		})
		return body
	}
	if code, msg := sender.post(t, first.InboxID(), create(1), nil); code != http.StatusAccepted {
		t.Fatalf("first delivery: %d %s", code, msg)
	}
	if got := len(first.received.ofType("Create")); got != 1 {
		t.Fatalf("first delivery handed on %d times, want 1", got)
	}
	first.stop()

	second := startServer(t, "lima", first.addr(), db)
	if code, msg := sender.post(t, second.InboxID(), create(1), nil); code != http.StatusAccepted {
		t.Fatalf("redelivery after the restart: %d %s", code, msg)
	}
	if got := second.received.ofType("Create"); len(got) != 0 {
		t.Errorf("the redelivery after a restart was handed on again: %s", got[0].ID)
	}
	if code, msg := sender.post(t, second.InboxID(), create(2), nil); code != http.StatusAccepted {
		t.Fatalf("a new activity after the restart: %d %s", code, msg)
	}
	if got := second.received.ofType("Create"); len(got) != 1 || !strings.HasSuffix(got[0].ID, "/activities/restart-2") {
		t.Errorf("after the restart, handed on %d activities, want only the new one", len(got))
	}
}

// TestUnverifiedSignatureSaysNoMore: a 401 tells the sender that the
// signature could not be verified, not why our key fetch failed (the
// cause is logged).
func TestUnverifiedSignatureSaysNoMore(t *testing.T) {
	node := startServer(t, "quito", "", nil)
	sender := newRemote(t, "mastodon", "mastodon-actor")
	follow := sender.activity("Follow", node.ActorID())
	code, msg := sender.post(t, node.InboxID(), follow, func(r *http.Request) {
		r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), sender.keyID, sender.base+"/no/such/key", 1))
	})
	if code != http.StatusUnauthorized || !strings.Contains(msg, "signature could not be verified") {
		t.Errorf("answer %d %s", code, msg)
	}
	if strings.Contains(msg, "404") || strings.Contains(msg, "/no/such/key") {
		t.Errorf("the key fetch's failure reached the sender: %s", msg)
	}
}

// TestActivityObjectIsLazy: an Inbox that never asks for the object costs
// no fetch; one that asks twice for an object it must fetch costs one; an
// object embedded by its author costs none.
func TestActivityObjectIsLazy(t *testing.T) {
	node := startServer(t, "bogota", "", nil)
	sender := newRemote(t, "mastodon", "mastodon-actor")
	origin := newRemote(t, "origin", "mastodon-actor")
	origin.docs["/notes/1"] = `{"@context":"https://www.w3.org/ns/activitystreams","id":"` + origin.base + `/notes/1",` +
		`"type":"Note","attributedTo":"` + origin.actorID + `","content":"the original"}`
	boost := func(n int) []byte {
		return sender.activityWithID(fmt.Sprintf("%s/activities/boost-%d", sender.base, n), "Announce", origin.base+"/notes/1")
	}

	node.received.handle(func(context.Context, *federation.Activity) error { return nil })
	if code, msg := sender.post(t, node.InboxID(), boost(1), nil); code != http.StatusAccepted {
		t.Fatalf("boost: %d %s", code, msg)
	}
	if n := origin.fetched("/notes/1"); n != 0 {
		t.Errorf("an object nobody asked for was fetched %d times", n)
	}

	objects := make(chan [2][]byte, 2)
	node.received.handle(func(ctx context.Context, a *federation.Activity) error {
		first, err := a.Object(ctx)
		if err != nil {
			return err
		}
		second, err := a.Object(ctx)
		objects <- [2][]byte{first, second}
		return err
	})
	if code, msg := sender.post(t, node.InboxID(), boost(2), nil); code != http.StatusAccepted {
		t.Fatalf("boost: %d %s", code, msg)
	}
	if n := origin.fetched("/notes/1"); n != 1 {
		t.Errorf("object fetched %d times, want once", n)
	}
	if got := <-objects; !strings.Contains(string(got[0]), "the original") || string(got[0]) != string(got[1]) {
		t.Errorf("object %s, then %s", got[0], got[1])
	}

	own, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       sender.base + "/activities/own", "type": "Create", "actor": sender.actorID,
		"object": map[string]any{"id": sender.base + "/notes/own", "type": "Note", "attributedTo": sender.actorID, "content": "mine"},
	})
	if code, msg := sender.post(t, node.InboxID(), own, nil); code != http.StatusAccepted {
		t.Fatalf("own create: %d %s", code, msg)
	}
	if n := sender.fetched("/notes/own"); n != 0 {
		t.Errorf("an object embedded by its author was fetched %d times", n)
	}
	if got := <-objects; !strings.Contains(string(got[0]), "mine") {
		t.Errorf("own object = %s", got[0])
	}
}

// TestFollowAnswered: the Inbox hears of the Accept and the Reject of our
// follows after they are recorded (FollowingOf already shows the answer
// during the call), and an Accept of anything else reaches Object instead.
func TestFollowAnswered(t *testing.T) {
	ctx := context.Background()
	node := startServer(t, "lapaz", "", nil)
	for _, c := range []struct {
		answer   string
		accepted bool
		state    string
	}{
		{"Accept", true, federation.FollowAccepted},
		{"Reject", false, federation.FollowRejected},
	} {
		t.Run(c.answer, func(t *testing.T) {
			remote := newRemote(t, strings.ToLower(c.answer)+"er", "mastodon-actor")
			f, err := node.Follow(ctx, remote.actorID)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-remote.inbox:
			case <-time.After(10 * time.Second):
				t.Fatal("the Follow was not delivered")
			}
			if code, msg := remote.post(t, node.InboxID(), remote.activity(c.answer, f.FollowID), nil); code != http.StatusAccepted {
				t.Fatalf("%s: %d %s", c.answer, code, msg)
			}
			var got []answer
			for _, a := range node.received.answered() {
				if a.actor == remote.actorID {
					got = append(got, a)
				}
			}
			if len(got) != 1 || got[0].accepted != c.accepted || got[0].state != c.state {
				t.Errorf("answers %+v, want one with accepted=%v while FollowingOf said %s", got, c.accepted, c.state)
			}
		})
	}
	stranger := newRemote(t, "stranger", "mastodon-actor")
	before := len(node.received.answered())
	if code, msg := stranger.post(t, node.InboxID(), stranger.activity("Accept", stranger.base+"/offers/1"), nil); code != http.StatusAccepted {
		t.Fatalf("accept of something else: %d %s", code, msg)
	}
	if len(node.received.answered()) != before {
		t.Error("an Accept of no follow of ours was taken for a follow answer")
	}
	var objects []string
	for _, a := range node.received.ofType("Accept") {
		if a.Actor == stranger.actorID {
			objects = append(objects, a.ObjectID)
		}
	}
	if len(objects) != 1 || objects[0] != stranger.base+"/offers/1" {
		t.Errorf("the stranger's Accepts that reached Object: %v", objects)
	}
}

// TestInboxRefusesCostlyShapes: a signed activity well inside the size cap
// but with a 100,000-item array, or nested deeper than the limit, is
// refused with 400 naming the limit before go-ap decodes it, and costs no
// more to refuse than an accepted activity of the same size costs to take
// (a ratio, measured on this machine in this run, not a fixed duration).
// Without the check go-ap built a value per element: 0.5 s on the hub.
func TestInboxRefusesCostlyShapes(t *testing.T) {
	node := startServer(t, "caracas", "", nil)
	sender := newRemote(t, "mastodon", "mastodon-actor")
	node.received.handle(func(context.Context, *federation.Activity) error { return nil })
	activity := func(n int, extra string) []byte {
		return fmt.Appendf(nil, `{"@context":"https://www.w3.org/ns/activitystreams","id":"%s/activities/shape-%d","type":"Create","actor":"%s",%s,`+
			`"object":{"id":"%s/notes/shape-%d","type":"Note","attributedTo":"%s","content":"x"}}`,
			sender.base, n, sender.actorID, extra, sender.base, n, sender.actorID)
	}
	huge := func(n int) []byte {
		return activity(n, `"to":[`+strings.Repeat(`"a",`, 99999)+`"a"]`)
	}
	// The same bytes as one string: what the activity's size alone costs.
	padded := func(n int) []byte {
		return activity(n, `"to":["`+federation.Public+`"],"summary":"`+strings.Repeat("a", 4*100000-len(federation.Public))+`"`)
	}
	deep := activity(0, `"x":`+strings.Repeat(`[`, 40)+strings.Repeat(`]`, 40))

	code, msg := sender.post(t, node.InboxID(), huge(0), nil)
	if code != http.StatusBadRequest || !strings.Contains(msg, "an array has more than 1000 items") {
		t.Errorf("100,000-item array: %d %s", code, msg)
	}
	code, msg = sender.post(t, node.InboxID(), deep, nil)
	if code != http.StatusBadRequest || !strings.Contains(msg, "nested deeper than 32 levels") {
		t.Errorf("40 levels: %d %s", code, msg)
	}
	if len(node.received.items) != 0 {
		t.Errorf("a refused activity reached the Inbox")
	}

	// How much the refusal costs against an accepted activity of the same
	// size is logged, not asserted (timings are for benchmarks; see
	// internal/jsonlimit's BenchmarkCheck100k). Both still must answer.
	start := time.Now()
	if code, msg := sender.post(t, node.InboxID(), huge(1), nil); code != http.StatusBadRequest {
		t.Errorf("second 100,000-item array: %d %.200s", code, msg)
	}
	refused := time.Since(start)
	start = time.Now()
	if code, msg := sender.post(t, node.InboxID(), padded(1), nil); code != http.StatusAccepted {
		t.Errorf("an activity of the same size as one string: %d %.200s", code, msg)
	}
	t.Logf("100,000-item array refused in %v; an accepted activity of the same size took %v", refused, time.Since(start))
}

// TestInboxObjectFetchGuards: through a running server, an activity whose
// object must be fetched is refused when the object lives at a private
// address (the SSRF guard: nothing reaches that address) or when the
// document fetched carries another id than its URL; the sender reads only
// that the object could not be fetched, our log says why.
func TestInboxObjectFetchGuards(t *testing.T) {
	node := startServer(t, "lima2", "", nil)
	sender := newRemote(t, "mastodon", "mastodon-actor")
	origin := newRemote(t, "origin", "mastodon-actor")
	origin.docs["/notes/1"] = `{"@context":"https://www.w3.org/ns/activitystreams","id":"` + origin.base + `/notes/1",` +
		`"type":"Note","attributedTo":"` + origin.actorID + `","content":"the original"}`
	origin.docs["/notes/moved"] = `{"@context":"https://www.w3.org/ns/activitystreams","id":"` + origin.base + `/notes/1",` +
		`"type":"Note","attributedTo":"` + origin.actorID + `","content":"claims another id"}`
	node.received.handle(func(ctx context.Context, a *federation.Activity) error {
		_, err := a.Object(ctx)
		return err
	})
	// The same origin server, named by its loopback address instead of
	// its development *.localhost name: a private address. https, so that
	// the refusal of plain http to an outside host is not what refuses it.
	private := strings.Replace(strings.Replace(origin.base, "origin.localhost", "127.0.0.1", 1), "http:", "https:", 1) + "/notes/1"
	cases := []struct {
		name, object, logged string
		path                 string // on origin: fetched how often
		fetches              int64
	}{
		{"private address", private, "forbidden target address: 127.0.0.1 resolves to 127.0.0.1", "/notes/1", 0},
		{"id differs from its URL", origin.base + "/notes/moved", "document id does not match", "/notes/moved", 1},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logged := len(node.logs.String())
			boost := sender.activityWithID(fmt.Sprintf("%s/activities/guard-%d", sender.base, i), "Announce", c.object)
			code, msg := sender.post(t, node.InboxID(), boost, nil)
			if code != http.StatusBadRequest || !strings.Contains(msg, "could not fetch object") {
				t.Errorf("answer %d %s", code, msg)
			}
			if log := node.logs.String()[logged:]; !strings.Contains(log, c.logged) {
				t.Errorf("the log does not say %q:\n%s", c.logged, log)
			}
			if n := origin.fetched(c.path); n != c.fetches {
				t.Errorf("%s fetched %d times, want %d", c.path, n, c.fetches)
			}
		})
	}
}
