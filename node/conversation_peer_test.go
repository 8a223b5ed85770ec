package node

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// startHubFollowing runs a hub that takes the nodes as members (it follows
// each) and waits until every node has accepted.
func startHubFollowing(t *testing.T, nodes ...*testNode) *hub.Hub {
	t.Helper()
	ctx := context.Background()
	l, base := listen(t, "hub")
	h, err := hub.New(ctx, hub.Config{BaseURL: base, Name: "Test hub", DB: storetest.DB(t), Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, l, h.Handler())
	runBackground(t, h.Run)
	hubActor := h.Federation().ActorID()
	for _, n := range nodes {
		if _, err := h.AddMember(ctx, n.Federation().ActorID()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, n.base+" to accept the hub", func() bool {
			return slices.ContainsFunc(n.Federation().Followers(), func(f federation.Follower) bool { return f.Actor == hubActor })
		})
	}
	return h
}

// TestPeerQuestionAndAnswer: an operator of one government asks another
// about one of its commitments (POST /api/v1/questions); the question
// lands in the peer's Conversations approved, since the asker is a member
// of the hub that follows the peer; the peer's answer comes back to the
// asking node's Conversations, threaded under the question. The hub's
// Group actor lists its members in ogp:members.
func TestPeerQuestionAndAnswer(t *testing.T) {
	jal := startNode(t, "jalisco")
	oax := startNode(t, "oaxaca")
	h := startHubFollowing(t, jal, oax)
	jtok, otok := jal.token(t, "jal"), oax.token(t, "oax")
	c := loopbackClient()

	hubDoc := objectJSON(t, h.Federation().ActorID())
	membersIRI, _ := hubDoc["ogp:members"].(string)
	if membersIRI == "" {
		t.Fatalf("the hub actor has no ogp:members: %v", hubDoc)
	}
	members := objectJSON(t, membersIRI)
	listed, _ := members["orderedItems"].([]any)
	if members["type"] != "OrderedCollection" || !slices.Contains(listed, any(oax.Federation().ActorID())) {
		t.Fatalf("members collection: %v", members)
	}

	resp, body := do(t, c, http.MethodPut, jal.base+"/api/v1/plans/2016-2018", samplePlan(), bearer(jtok))
	mustStatus(t, resp, body, http.StatusCreated)
	resp, body = do(t, c, http.MethodPost, jal.base+"/api/v1/commitments", sampleCommitment("JAL0004"), bearer(jtok))
	mustStatus(t, resp, body, http.StatusCreated)
	cIRI := jal.base + "/commitments/JAL0004"

	// Oaxaca asks Jalisco.
	resp, body = do(t, c, http.MethodPost, oax.base+"/api/v1/questions",
		map[string]string{"inReplyTo": cIRI, "content": "How did you recruit the farm workers' associations?"}, bearer(otok))
	mustStatus(t, resp, body, http.StatusCreated)
	question := resp.Header.Get("Location")
	if !strings.HasPrefix(question, oax.base+"/notes/") {
		t.Fatalf("Location: %q", question)
	}
	var got apiReplyItem
	waitFor(t, "the question in Jalisco's Conversations, approved", func() bool {
		var ok bool
		got, ok = findReply(listReplies(t, jal.base, jtok, "approved"), question)
		return ok
	})
	if got.Actor != oax.Federation().ActorID() || got.InReplyTo != cIRI || !strings.Contains(got.Content, "farm workers") {
		t.Fatalf("question at Jalisco: %+v", got)
	}
	_, page := get(t, c, cIRI, "text/html")
	if !strings.Contains(page, "How did you recruit the farm workers") {
		t.Fatal("the peer's question is not in the commitment's public thread")
	}

	// Jalisco answers; the answer comes back to Oaxaca's Conversations.
	resp, body = do(t, c, http.MethodPost, jal.base+"/api/v1/questions",
		map[string]string{"inReplyTo": question, "content": "Through the state labour council."}, bearer(jtok))
	mustStatus(t, resp, body, http.StatusCreated)
	answer := resp.Header.Get("Location")
	waitFor(t, "the answer in Oaxaca's Conversations", func() bool {
		var ok bool
		got, ok = findReply(listReplies(t, oax.base, otok, "approved"), answer)
		return ok
	})
	if got.InReplyTo != question || got.Actor != jal.Federation().ActorID() || !strings.Contains(got.Content, "state labour council") {
		t.Fatalf("answer at Oaxaca: %+v", got)
	}
	// The question's replies collection at its origin lists the answer.
	if items := repliesItems(t, objectJSON(t, question)); !contains(items, answer) {
		t.Fatalf("question replies: %v", items)
	}
}
