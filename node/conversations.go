package node

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/node/conversation"
)

// inbox is the node's federation.Inbox: replies, edits, deletions and
// reports go to the conversations (docs/discussion.md). It is built before
// the conversations, which need the federation server, and pointed at them
// before anything is served.
type inbox struct {
	federation.IgnoreInbox
	conv *conversation.Service
}

func (i *inbox) Object(ctx context.Context, a *federation.Activity) error {
	return i.conv.Object(ctx, a)
}

func (i *inbox) Delete(ctx context.Context, a *federation.Activity) error {
	return i.conv.Delete(ctx, a)
}

// lookupObject tells the conversations whether iri is one of the node's
// live objects (plan, commitment, progress update) and where its thread
// lives.
func (n *Node) lookupObject(ctx context.Context, iri string) (conversation.Thread, bool, error) {
	base := n.cfg.BaseURL + "/"
	if !strings.HasPrefix(iri, base) || strings.ContainsAny(iri, "?#") {
		return conversation.Thread{}, false, nil
	}
	parts := strings.Split(strings.TrimPrefix(iri, base), "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return conversation.Thread{}, false, nil
		}
		parts[i] = u
	}
	st := n.svc.Store()
	found := func(err error) (bool, error) {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	switch {
	case len(parts) == 2 && parts[0] == "plans":
		_, err := st.GetPlan(ctx, parts[1])
		ok, err := found(err)
		return conversation.Thread{Root: iri, Context: n.iris.PlanConversation(parts[1])}, ok, err
	case len(parts) == 2 && parts[0] == "commitments":
		c, err := st.GetCommitment(ctx, parts[1])
		ok, err := found(err)
		return conversation.Thread{Root: iri, Context: n.iris.Conversation(parts[1])}, ok && !c.Deleted, err
	case len(parts) == 4 && parts[0] == "commitments" && parts[2] == "updates":
		u, err := st.GetUpdate(ctx, parts[3])
		ok, err := found(err)
		ok = ok && !u.Deleted && u.CommitmentID == parts[1]
		return conversation.Thread{Root: iri, Context: n.iris.Conversation(parts[1])}, ok, err
	}
	return conversation.Thread{}, false, nil
}

// Conversations is the node's discussion (for the demo and tests).
func (n *Node) Conversations() *conversation.Service { return n.conv }
