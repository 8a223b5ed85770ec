package main

import (
	"context"
	"flag"
	"testing"

	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/store"
)

// TestFlagsFromEnvironment: every flag can come from OGPNET_<FLAG>, and the
// command line wins.
func TestFlagsFromEnvironment(t *testing.T) {
	t.Setenv("OGPNET_MONGO_URI", "mongodb://env")
	t.Setenv("OGPNET_ADDR", ":9999")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var c common
	c.register(fs, ":8080", "./data")
	if err := parse(fs, []string{"--addr", ":7000"}); err != nil {
		t.Fatal(err)
	}
	if c.mongoURI != "mongodb://env" || c.addr != ":7000" || c.data != "./data" {
		t.Errorf("got uri %q addr %q data %q", c.mongoURI, c.addr, c.data)
	}
	t.Setenv("OGPNET_LOG_LEVEL", "")
	t.Setenv("OGPNET_BACKFILL_INTERVAL", "not-a-duration")
	fs = flag.NewFlagSet("y", flag.ContinueOnError)
	fs.Duration("backfill-interval", 0, "")
	if err := parse(fs, nil); err == nil {
		t.Error("a bad OGPNET_BACKFILL_INTERVAL was accepted")
	}
}

// TestTokenCommand: `ogpnet token` stores a hashed operator token in the
// node's database, where the node's auth finds it.
func TestTokenCommand(t *testing.T) {
	dir := t.TempDir()
	seedNodeDB(t, dir, "jalisco")
	if err := runToken(context.Background(), []string{"--name", "jalisco", "--data", dir, "--label", "imports", "--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	a, err := auth.New(ctx, st.DB("ogpnet_jalisco"), auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	toks, err := a.Tokens(ctx)
	if err != nil || len(toks) != 1 || toks[0].Label != "imports" || !toks[0].Operator {
		t.Fatalf("tokens = %+v, %v", toks, err)
	}
	if err := runToken(ctx, []string{"--data", dir}); err == nil {
		t.Error("token without --name was accepted")
	}
}

// TestRequiredFlags: a server command without its required flags stops
// before opening anything and names them; an environment variable counts as
// given.
func TestRequiredFlags(t *testing.T) {
	ctx := context.Background()
	if err := runNode(ctx, []string{"--name", "jalisco"}); err == nil || err.Error() != "node: --name and --url are required" {
		t.Errorf("node without --url: %v", err)
	}
	if err := runHub(ctx, nil); err == nil || err.Error() != "hub: --url is required" {
		t.Errorf("hub without --url: %v", err)
	}
	t.Setenv("OGPNET_URL", "https://hub.example")
	fs, _ := newServerFlags("hub", "./data/hub")
	fs.String("url", "", "")
	if err := parse(fs, nil, "url"); err != nil {
		t.Errorf("--url from OGPNET_URL: %v", err)
	}
}
