package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/ogpnet/ogpnet/federation/fetch"
	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/internal/store"
)

// sampleThread is one cross-pilot question and answer of the sample
// (data/conversations.json): asker's node asks owner's about one of owner's
// commitments, and owner answers as the government. Illustrative, like the
// rest of the sample.
type sampleThread struct {
	Asker      string `json:"asker"`
	Owner      string `json:"owner"`
	Commitment string `json:"commitment"` // the owner's commitment id, e.g. "PAR0001"
	Question   string `json:"question"`
	Answer     string `json:"answer"`
}

func conversations() ([]sampleThread, error) {
	raw, err := sampleData.ReadFile("data/conversations.json")
	if err != nil {
		return nil, err
	}
	var cs []sampleThread
	if err := json.Unmarshal(raw, &cs); err != nil {
		return nil, fmt.Errorf("demo: data/conversations.json: %w", err)
	}
	return cs, nil
}

// errNoQuestionsAPI says a node does not offer POST /api/v1/questions
// (the node side of docs/discussion.md).
var errNoQuestionsAPI = errors.New("the node has no questions API")

// conversationWait bounds how long one step waits for federation (the
// hub's backfill of the commitment, the question reaching the owner).
const conversationWait = 2 * time.Minute

// Converse makes the sample's question-and-answer threads through the
// running system, once per data folder: each question through the asking
// node's API (POST /api/v1/questions, docs/api-node.md), which federates it
// to the owner's node and the hub; each answer through the owner's node
// (a Note in reply to the question, from the owner's actor), so both
// appear in the owner's Conversations, on the hub's commitment page and in
// its discussion. A node without the questions API skips the step.
func (d *Demo) Converse(ctx context.Context) error {
	cs, err := conversations()
	if err != nil {
		return err
	}
	marker := d.store.DB("ogpnet_demo").Collection("conversed")
	client := fetch.NewClient(fetch.Guard{DevLocalhost: true}, 30*time.Second)
	for i, c := range cs {
		key := fmt.Sprintf("%d-%s-%s", i, c.Asker, c.Commitment)
		if n, err := marker.CountDocuments(ctx, map[string]any{"_id": key}); err == nil && n > 0 {
			continue
		}
		err := d.converse(ctx, client, c)
		if errors.Is(err, errNoQuestionsAPI) {
			d.opts.Logger.Info("demo: the nodes have no questions API; sample conversations skipped")
			return nil
		}
		if err != nil {
			return fmt.Errorf("demo: conversation %s → %s %s: %w", c.Asker, c.Owner, c.Commitment, err)
		}
		if _, err := marker.InsertOne(ctx, map[string]any{"_id": key, "at": time.Now().UTC()}); err != nil && !store.IsDuplicate(err) {
			return err
		}
	}
	return nil
}

func (d *Demo) converse(ctx context.Context, client *http.Client, c sampleThread) error {
	owner, ok := d.Nodes[c.Owner]
	if !ok || d.Nodes[c.Asker] == nil {
		return fmt.Errorf("no pilot %q or %q", c.Owner, c.Asker)
	}
	commitment := owner.Federation().BaseURL() + "/commitments/" + c.Commitment
	// The hub must hold the commitment before a question about it can join
	// its thread there.
	if err := waitFor(ctx, "the hub to hold "+commitment, func() bool {
		_, ok := d.Hub.ReadModel().Commitment(commitment)
		return ok
	}); err != nil {
		return err
	}
	question, err := d.ask(ctx, client, c.Asker, commitment, c.Question)
	if err != nil {
		return err
	}
	// The answer replies to the question: the owner's node must hold it (in
	// its Conversations, approved, as the asker is a trusted member) for
	// its API to post an answer rather than a question; the hub's thread
	// shows it too.
	if err := waitFor(ctx, "the question at "+c.Owner+" and on the hub", func() bool {
		return d.nodeHolds(ctx, client, c.Owner, question) &&
			slices.ContainsFunc(d.Hub.Discussion().Thread(commitment), func(p discussion.Post) bool { return p.ID == question })
	}); err != nil {
		return err
	}
	_, err = d.ask(ctx, client, c.Owner, question, c.Answer)
	return err
}

// ask posts a Note in reply to inReplyTo from slug's node actor through
// its API and returns the Note's IRI (the Location header).
func (d *Demo) ask(ctx context.Context, client *http.Client, slug, inReplyTo, content string) (string, error) {
	body, _ := json.Marshal(map[string]string{"inReplyTo": inReplyTo, "content": content})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL(slug)+"/api/v1/questions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.tokens[slug])
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return "", errNoQuestionsAPI
	case resp.StatusCode != http.StatusCreated:
		return "", fmt.Errorf("POST %s/api/v1/questions: %d %s", slug, resp.StatusCode, msg)
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("POST %s/api/v1/questions: 201 without Location", slug)
	}
	return loc, nil
}

// nodeHolds reports whether slug's node lists the reply id as approved
// (GET /api/v1/replies?status=approved, docs/api-node.md).
func (d *Demo) nodeHolds(ctx context.Context, client *http.Client, slug, id string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL(slug)+"/api/v1/replies?status=approved", nil)
	if err != nil {
		return false
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.tokens[slug])
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&list) != nil {
		return false
	}
	return slices.ContainsFunc(list.Items, func(it struct {
		ID string `json:"id"`
	}) bool {
		return it.ID == id
	})
}

func waitFor(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(conversationWait)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", conversationWait, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}
