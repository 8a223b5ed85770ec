package node

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

func TestStoreGuardExplore(t *testing.T) {
	tn, c, tok := startSeeded(t, "jalisco", "JAL0001", "JAL0002")
	w := storetest.Watch(t, tn.cfg.DB)
	ctx := context.Background()
	f := startFollower(t)
	if _, err := f.Follow(ctx, tn.Federation().ActorID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the follow to be accepted", func() bool {
		fw, err := f.FollowingOf(ctx, tn.Federation().ActorID())
		return err == nil && fw.State == federation.FollowAccepted
	})
	resp, body := do(t, c, http.MethodPost, tn.base+"/api/v1/commitments/JAL0001/updates", map[string]any{
		"date": "2017-07-01", "text": map[string]string{"es": "Se concluyó el diseño."}, "completion": "substantial",
	}, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	time.Sleep(2 * time.Second)
	start := time.Now()
	const ap, html, js = "application/activity+json", "text/html", "application/json"
	for _, p := range []struct{ path, accept string }{
		{"/users/jalisco", ap},
		{"/users/jalisco", html},
		{"/users/jalisco/outbox", ap},
		{"/users/jalisco/outbox?page=true", ap},
		{"/users/jalisco/followers", ap},
		{"/users/jalisco/following", ap},
		{"/users/jalisco/collections/featured", ap},
		{"/users/jalisco/collections/tags", ap},
		{"/application", ap},
		{"/application/outbox", ap},
		{"/.well-known/webfinger?resource=" + url.QueryEscape("acct:jalisco@"+tn.Federation().Host()), "application/jrd+json"},
		{"/.well-known/nodeinfo", js},
		{"/nodeinfo/2.1", js},
		{"/ns/ogp", "application/ld+json"},
		{"/plans/2016-2018", ap},
		{"/plans/2016-2018", html},
		{"/commitments/JAL0001", ap},
		{"/commitments/JAL0001", html},
		{"/commitments/JAL0001/updates", ap},
		{"/commitments/JAL0001/context", ap},
		{"/commitments/JAL0001/replies", ap},
		{"/", html},
		{"/api/v1/commitments", js},
		{"/api/v1/plans", js},
	} {
		r, b := get(t, c, tn.base+p.path, p.accept)
		t.Logf("%s %d %d", p.path, r.StatusCode, len(b))
	}
	time.Sleep(6 * time.Second)
	for _, cmd := range w.Commands(start) {
		t.Log(cmd)
	}
}
