package ogp

import (
	"net/url"
	"strings"
	"unicode"
)

// IRIs builds the IRIs of one node from its base URL and actor name,
// following the layout in docs/architecture.md. Producers use it so every
// IRI in a document comes from one place; consumers should not guess IRIs
// and read them from documents instead.
type IRIs struct {
	// Base is the server's base URL without a trailing slash,
	// e.g. "http://jalisco.localhost:8080".
	Base string
	// Name is the node actor's preferred username, e.g. "jalisco".
	Name string
}

// NewIRIs returns the IRI builder for base (a trailing slash is dropped).
func NewIRIs(base, name string) IRIs {
	return IRIs{Base: strings.TrimRight(base, "/"), Name: name}
}

// Actor is {base}/users/{name}.
func (i IRIs) Actor() string { return i.Base + "/users/" + url.PathEscape(i.Name) }

// Followers is the actor's followers collection, the usual cc.
func (i IRIs) Followers() string { return i.Actor() + "/followers" }

// Outbox is the actor's outbox.
func (i IRIs) Outbox() string { return i.Actor() + "/outbox" }

// Context is the IRI of the served ogp context document.
func (i IRIs) Context() string { return i.Base + ContextPath }

// Plan is {base}/plans/{planID}.
func (i IRIs) Plan(planID string) string { return i.Base + "/plans/" + url.PathEscape(planID) }

// Commitment is {base}/commitments/{commitmentID}.
func (i IRIs) Commitment(id string) string {
	return i.Base + "/commitments/" + url.PathEscape(id)
}

// Updates is a commitment's progress collection.
func (i IRIs) Updates(commitmentID string) string { return i.Commitment(commitmentID) + "/updates" }

// Conversation is a commitment's conversation collection, the "context"
// of the commitment, its updates and every reply in their threads
// (FEP-171b; docs/discussion.md).
func (i IRIs) Conversation(commitmentID string) string {
	return i.Commitment(commitmentID) + "/context"
}

// PlanConversation is a plan's conversation collection.
func (i IRIs) PlanConversation(planID string) string { return i.Plan(planID) + "/context" }

// Replies is the "replies" collection of any object of the node.
func Replies(objectIRI string) string { return objectIRI + "/replies" }

// Update is {base}/commitments/{commitmentID}/updates/{updateID}.
func (i IRIs) Update(commitmentID, updateID string) string {
	return i.Updates(commitmentID) + "/" + url.PathEscape(updateID)
}

// Milestone is the IRI of a milestone: the commitment IRI with a fragment,
// because a milestone has no page of its own.
func (i IRIs) Milestone(commitmentID, milestoneKey string) string {
	return i.Commitment(commitmentID) + "#milestone-" + url.PathEscape(milestoneKey)
}

// Activity is {base}/activities/{id}.
func (i IRIs) Activity(id string) string { return i.Base + "/activities/" + url.PathEscape(id) }

// MilestoneKey returns the key part of a milestone IRI (the text after
// "#milestone-"), or "" if iri is not one.
func MilestoneKey(iri string) string {
	_, frag, ok := strings.Cut(iri, "#milestone-")
	if !ok {
		return ""
	}
	k, err := url.PathUnescape(frag)
	if err != nil {
		return ""
	}
	return k
}

// HashtagName turns a policy-area slug into a hashtag in CamelCase
// ("access-to-information" → "#AccessToInformation"), the form fediverse
// users type and screen readers pronounce word by word.
func HashtagName(slug string) string {
	var b strings.Builder
	b.WriteByte('#')
	for part := range strings.SplitSeq(slug, "-") {
		for j, r := range part {
			if j == 0 {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
