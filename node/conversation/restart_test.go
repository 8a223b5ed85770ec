package conversation

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// TestStateRebuiltAtStart: what the service keeps in memory (the node's
// Notes and their threads, blocks, the moderation log) comes back from the
// store when the node starts again.
func TestStateRebuiltAtStart(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	log := slog.New(slog.DiscardHandler)
	fed, err := federation.New(ctx, federation.Config{BaseURL: "http://n.localhost:1", Username: "n",
		ActorType: "Organization", DB: db, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	commitment := "http://n.localhost:1/commitments/N0001"
	lookup := func(_ context.Context, iri string) (Thread, bool, error) {
		return Thread{Root: iri, Context: iri + "/context"}, iri == commitment, nil
	}
	open := func() *Service {
		s, err := New(ctx, Config{DB: db, Fed: fed, Lookup: lookup, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	note, err := s.Ask(ctx, "ana@n.example", commitment, "A note of the government.\n\nSecond paragraph <b>escaped</b>.")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(note.Content, "<p>Second paragraph &lt;b&gt;escaped&lt;/b&gt;.</p>") {
		t.Fatalf("content: %s", note.Content)
	}
	if err := s.BlockDomain(ctx, "ana@n.example", "https://spam.example/users/x"); err != nil {
		t.Fatal(err)
	}
	if err := s.BlockDomain(ctx, "ana@n.example", "not a domain"); err == nil || !strings.Contains(err.Error(), "must be a domain name") {
		t.Fatalf("bad domain: %v", err)
	}

	s = open()
	if got, ok := s.LocalNote(note.ID); !ok || got.Context != commitment+"/context" {
		t.Fatalf("the note after a restart: %+v %v", got, ok)
	}
	if items := s.RepliesOf(commitment); len(items) != 1 || items[0] != note.ID {
		t.Fatalf("replies after a restart: %v", items)
	}
	if b, ok := s.blockedBy("https://a.spam.example/users/y"); !ok || b.Target != "spam.example" {
		t.Fatalf("the block after a restart (subdomains included): %+v %v", b, ok)
	}
	audit := s.Audit()
	if len(audit) != 2 || audit[0].Action != "block domain" || audit[1].Action != "ask" || audit[0].Who != "ana@n.example" {
		t.Fatalf("audit after a restart: %+v", audit)
	}
}
