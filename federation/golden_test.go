package federation_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/golden"
)

// normalize replaces what changes run to run (ports, keys, random ids,
// times) so the golden files hold the stable shape of our documents.
func normalize(t *testing.T, body []byte, base string) []byte {
	t.Helper()
	s := strings.ReplaceAll(string(body), base, "BASE")
	s = strings.ReplaceAll(s, strings.TrimPrefix(base, "http://"), "HOST")
	s = regexp.MustCompile(`http://[a-z]+\.localhost:\d+`).ReplaceAllString(s, "REMOTE")
	s = regexp.MustCompile(`-----BEGIN PUBLIC KEY-----[^"]*-----END PUBLIC KEY-----\\n`).ReplaceAllString(s, "PEM")
	s = regexp.MustCompile(`/activities/[0-9a-z]+`).ReplaceAllString(s, "/activities/ID")
	s = regexp.MustCompile(`max_id=[0-9a-z]+`).ReplaceAllString(s, "max_id=ID")
	s = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`).ReplaceAllString(s, "TIME")
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("normalized document is not JSON: %v\n%s", err, s)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return append(out, '\n')
}

// goldenDoc compares got with testdata/golden/name.json (-update rewrites it).
func goldenDoc(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "golden", name+".json"), got)
}

// TestGolden pins the documents other servers parse: reviewed against
// Mastodon's documented requirements (federation.md §1) when written.
func TestGolden(t *testing.T) {
	node := startServer(t, "jalisco", "", nil)
	host := strings.TrimPrefix(node.URL, "http://")
	fetch := func(url, accept string) []byte {
		resp, body := get(t, url, accept)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", url, resp.StatusCode)
		}
		return normalize(t, body, node.URL)
	}
	goldenDoc(t, "actor", fetch(node.ActorID(), "application/activity+json"))
	goldenDoc(t, "application", fetch(node.AppID(), "application/activity+json"))
	goldenDoc(t, "application-outbox", fetch(node.AppOutboxID(), "application/activity+json"))
	goldenDoc(t, "featured", fetch(node.FeaturedID(), "application/activity+json"))
	goldenDoc(t, "featured-tags", fetch(node.FeaturedTagsID(), "application/activity+json"))
	goldenDoc(t, "webfinger", fetch(node.URL+"/.well-known/webfinger?resource=acct:jalisco@"+host, ""))
	goldenDoc(t, "nodeinfo-links", fetch(node.URL+"/.well-known/nodeinfo", ""))
	goldenDoc(t, "nodeinfo", fetch(node.URL+"/nodeinfo/2.1", ""))

	publishNote(t, node, "Golden note")
	goldenDoc(t, "outbox", fetch(node.OutboxID(), "application/activity+json"))
	page := fetch(node.OutboxID()+"?page=true", "application/activity+json")
	page = regexp.MustCompile(`"published": "[^"]*"`).ReplaceAll(page, []byte(`"published": "TIME"`))
	page = regexp.MustCompile(`min_id=[0-9a-z]{26}`).ReplaceAll(page, []byte(`min_id=ID`))
	goldenDoc(t, "outbox-page", page)

	r := newRemote(t, "mastodon", "mastodon-actor")
	follow := r.activityWithID(r.base+"/follows/1", "Follow", node.ActorID())
	if code, msg := r.post(t, node.InboxID(), follow, nil); code != 202 {
		t.Fatalf("follow: %d %s", code, msg)
	}
	select {
	case accept := <-r.inbox:
		goldenDoc(t, "accept", normalize(t, accept, node.URL))
	case <-time.After(10 * time.Second):
		t.Fatal("no Accept")
	}
	goldenDoc(t, "followers-page", fetch(node.FollowersID()+"?page=true", "application/activity+json"))
}

// TestActorCollectionsAnswer: every collection an actor document names
// (outbox, followers, following, featured, featuredTags; the application
// actor's too) answers an AP GET with an OrderedCollection whose id is the
// IRI named: Mastodon and GoToSocial fetch them, and a 404 is an error in
// their logs.
func TestActorCollectionsAnswer(t *testing.T) {
	node := startServer(t, "jalisco", "", nil)
	for _, actor := range []string{node.ActorID(), node.AppID()} {
		_, body := get(t, actor, "application/activity+json")
		doc := decode(t, body)
		named := 0
		for _, key := range []string{"outbox", "followers", "following", "featured", "featuredTags"} {
			iri, _ := doc[key].(string)
			if iri == "" {
				continue
			}
			named++
			resp, body := get(t, iri, "application/activity+json")
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/activity+json") {
				t.Errorf("%s of %s: GET %s: %d %s", key, actor, iri, resp.StatusCode, resp.Header.Get("Content-Type"))
				continue
			}
			coll := decode(t, body)
			if coll["id"] != iri || coll["type"] != "OrderedCollection" {
				t.Errorf("%s of %s: %s is a %v with id %v", key, actor, iri, coll["type"], coll["id"])
			}
		}
		if want := map[string]int{node.ActorID(): 5, node.AppID(): 2}[actor]; named != want {
			t.Errorf("%s names %d collections, want %d: %s", actor, named, want, body)
		}
	}
}
