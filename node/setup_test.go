package node

import (
	"context"
	"net/http"
	"testing"

	"github.com/ogpnet/ogpnet/federation"
)

// Set-ups shared by the end-to-end tests.

// startWithToken starts node slug and issues an operator API token; it
// returns the node, a client (no session) and the token.
func startWithToken(t *testing.T, slug string) (*testNode, *http.Client, string) {
	t.Helper()
	tn := startNode(t, slug)
	return tn, loopbackClient(), tn.token(t, "setup")
}

// token issues an operator API token labelled label on tn.
func (tn *testNode) token(t *testing.T, label string) string {
	t.Helper()
	tok, err := tn.CreateAPIToken(context.Background(), label)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// seed creates the sample plan and then commitments through the API.
func (tn *testNode) seed(t *testing.T, c *http.Client, tok string, commitments ...map[string]any) {
	t.Helper()
	resp, body := do(t, c, http.MethodPut, tn.base+"/api/v1/plans/2016-2018", samplePlan(), bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	for _, cm := range commitments {
		resp, body = do(t, c, http.MethodPost, tn.base+"/api/v1/commitments", cm, bearer(tok))
		mustStatus(t, resp, body, http.StatusCreated)
	}
}

// startSeeded is startWithToken, then seed with the sample commitments ids.
func startSeeded(t *testing.T, slug string, ids ...string) (*testNode, *http.Client, string) {
	t.Helper()
	tn, c, tok := startWithToken(t, slug)
	cms := make([]map[string]any, len(ids))
	for i, id := range ids {
		cms[i] = sampleCommitment(id)
	}
	tn.seed(t, c, tok, cms...)
	return tn, c, tok
}

// startFollowed starts node slug and a follower whose follow the node has
// accepted.
func startFollowed(t *testing.T, slug string) (*testNode, *follower) {
	t.Helper()
	ctx := context.Background()
	tn := startNode(t, slug)
	f := startFollower(t)
	if _, err := f.Follow(ctx, tn.Federation().ActorID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the follow to be accepted", func() bool {
		fw, err := f.FollowingOf(ctx, tn.Federation().ActorID())
		return err == nil && fw.State == federation.FollowAccepted
	})
	return tn, f
}
