package hub_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/oidcdev"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// TestDiscussionPostToTheGroup: anyone may address the hub's Group. Such a
// post is held (not public) until staff, signed in through OIDC, approve
// it on the moderation page; then it is in the thread and the Group
// announces it to its followers (FEP-1b12). Script in it never reaches the
// staff page either. Blocking a domain removes what was held from it and
// refuses its next post (403, nothing stored); the log says who did it.
func TestDiscussionPostToTheGroup(t *testing.T) {
	prov, issuer := oidcdev.StartTest(t, []oidcdev.User{
		{Subject: "ana", Email: "ana@ogp.example", Name: "Ana Staff", Password: "pw", EmailVerified: true},
	}, nil)
	town := startOwner(t, "town")
	cIRI := town.publishCommitment(t, "TOW0001", "Open budget portal", "fiscal-openness")
	bob := startAccount(t, "social", "bob")
	eve := startAccount(t, "spam", "eve")
	fan := startFollower(t, "fan")

	ln, base := listen(t, "hub", "")
	prov.AddClient(oidcdev.Client{ID: "hub", Secret: "hub-secret", RedirectURIs: []string{base + "/auth/callback"}})
	hb, err := hub.New(context.Background(), hub.Config{
		BaseURL: base, DB: storetest.DB(t), Logger: quietLogger(),
		Auth: auth.Config{Issuer: issuer, ClientID: "hub", ClientSecret: "hub-secret", RedirectURL: base + "/auth/callback",
			AllowedEmailDomains: []string{"ogp.example"}, Logger: quietLogger()},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &testHub{Hub: hb}
	h.base, h.addr = base, ln.Addr().String()
	h.stop = serve(t, ln, hb.Handler(), hb.Run)
	joinOwner(t, h, town, cIRI)
	ctx := context.Background()
	if _, err := fan.Follow(ctx, hb.Federation().ActorID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the hub accepts the fan", func() bool {
		fo, err := fan.FollowingOf(ctx, hb.Federation().ActorID())
		return err == nil && fo.State == federation.FollowAccepted
	})
	group, inbox := hb.Federation().ActorID(), hb.Federation().InboxID()

	post := bob.note(cIRI, "<p>Great idea, is the data machine-readable?</p>"+hostile,
		map[string]any{"to": []string{federation.Public, group}, "tag": []any{map[string]any{"type": "Mention", "href": group, "name": "@hub"}}})
	postID := post["id"].(string)
	if code, body := bob.send(t, inbox, "Create", post); code != http.StatusAccepted {
		t.Fatalf("post to the Group: %d %s", code, body)
	}
	if got := thread(t, h, cIRI); len(got) != 0 {
		t.Fatalf("a post to the Group is public before review: %v", ids(got))
	}
	if p, ok := hb.Discussion().Get(postID); !ok || p.Status != "held" {
		t.Fatalf("post to the Group: %+v %v, want held", p, ok)
	}

	jar, _ := cookiejar.New(nil)
	staff := &http.Client{Jar: jar, Transport: loopbackClient.Transport, Timeout: 10 * time.Second}
	resp, err := oidcdev.Login(ctx, staff, base+"/auth/login?next=/", "ana", "pw")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csrf := ""
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "_csrf" {
			csrf = ck.Value
		}
	}
	act := func(form url.Values) (int, string) {
		t.Helper()
		form.Set(auth.CSRFField, csrf)
		req, _ := http.NewRequest(http.MethodPost, base+"/staff/discussion/action", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := staff.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	staffPage := func() string {
		t.Helper()
		resp, err := staff.Get(base + "/staff/discussion")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("staff page: %d", resp.StatusCode)
		}
		return string(b)
	}
	apiCall := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(auth.CSRFHeader, csrf)
		resp, err := staff.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := apiCall("GET", "/api/v1/staff/discussion?status=held", ""); code != http.StatusOK || !strings.Contains(body, postID) || !strings.Contains(body, `"via":"group"`) {
		t.Errorf("staff API, held: %d %s", code, body)
	}
	if code, body := apiCall("GET", "/api/v1/staff/discussion?status=bogus", ""); code != http.StatusBadRequest || !strings.Contains(body, "status") {
		t.Errorf("staff API, bad status: %d %s", code, body)
	}
	if code, _ := getPage(t, base+"/api/v1/staff/discussion"); code != http.StatusUnauthorized {
		t.Errorf("staff API answers an anonymous reader: %d", code)
	}
	if code, _ := getPage(t, base+"/staff/discussion"); code == http.StatusOK {
		t.Error("the moderation page answers an anonymous reader")
	}
	page := staffPage()
	if !strings.Contains(page, "is the data machine-readable?") || !strings.Contains(page, bob.handle()) {
		t.Error("the held post is not on the moderation page")
	}
	assertClean(t, "moderation page", page[strings.Index(page, `id="held-h"`):])

	if code, body := act(url.Values{"op": {"approve"}, "id": {postID}}); code != http.StatusOK || !strings.Contains(body, "The post is approved.") {
		t.Fatalf("approve: %d", code)
	}
	if got := thread(t, h, cIRI); len(got) != 1 || got[0].ID != postID {
		t.Errorf("after approval: %v", ids(got))
	}
	boost := fan.next(t, 20*time.Second, "the approved post", func(a announced) bool { return a.IRI == postID })
	if boost.Actor != group {
		t.Errorf("announced by %s", boost.Actor)
	}
	// Hidden through the JSON API, approved again on the page.
	if code, body := apiCall("POST", "/api/v1/staff/discussion/hide", `{"id":"`+postID+`"}`); code != http.StatusNoContent {
		t.Fatalf("hide through the API: %d %s", code, body)
	}
	if got := thread(t, h, cIRI); len(got) != 0 {
		t.Errorf("a hidden post is public: %v", ids(got))
	}
	if code, body := apiCall("POST", "/api/v1/staff/discussion/hide", `{}`); code != http.StatusBadRequest || !strings.Contains(body, "id: required") {
		t.Errorf("hide without id: %d %s", code, body)
	}
	if code, _ := act(url.Values{"op": {"approve"}, "id": {postID}}); code != http.StatusOK || len(thread(t, h, cIRI)) != 1 {
		t.Errorf("approved again: %d", code)
	}
	if code, _ := act(url.Values{"op": {"approve"}, "id": {"http://nowhere.localhost/x"}}); code != http.StatusNotFound {
		t.Errorf("approving an unknown post: %d", code)
	}
	if code, _ := act(url.Values{"op": {"erase"}}); code != http.StatusBadRequest {
		t.Errorf("unknown action: %d", code)
	}

	// A spammer's held post; its domain blocked, the post goes and the
	// next one is refused.
	spam := eve.note("", "<p>Buy followers</p>", map[string]any{"to": []string{group}})
	if code, _ := eve.send(t, inbox, "Create", spam); code != http.StatusAccepted {
		t.Fatalf("spam: %d", code)
	}
	if !hb.Discussion().Knows(spam["id"].(string)) {
		t.Fatal("the spam was not held")
	}
	spamHost := strings.TrimPrefix(eve.base, "http://")
	if code, _ := act(url.Values{"op": {"block-domain"}, "domain": {spamHost}}); code != http.StatusOK {
		t.Fatalf("block domain: %d", code)
	}
	if hb.Discussion().Knows(spam["id"].(string)) {
		t.Error("the blocked domain's held post is still kept")
	}
	again := eve.note("", "<p>Buy followers again</p>", map[string]any{"to": []string{group}})
	code, body := eve.send(t, inbox, "Create", again)
	if code != http.StatusForbidden || !strings.Contains(body, "blocked") {
		t.Errorf("blocked domain's post: %d %s, want 403 naming the block", code, body)
	}
	if hb.Discussion().Knows(again["id"].(string)) {
		t.Error("the blocked domain's post was stored")
	}
	page = staffPage()
	audit := page[strings.Index(page, `id="audit-h"`):]
	for _, want := range []string{"ana@ogp.example", "approved", "blocked a domain", spamHost} {
		if !strings.Contains(audit, want) {
			t.Errorf("moderation log lacks %q", want)
		}
	}
}

// TestDiscussionGroupPolicy: --group-posts open shows a post to the Group
// at once; off refuses it (403, nothing stored).
func TestDiscussionGroupPolicy(t *testing.T) {
	bob := startAccount(t, "social", "bob")
	for _, policy := range []discussion.GroupPosts{discussion.GroupOpen, discussion.GroupOff} {
		ln, base := listen(t, "hub", "")
		hb, err := hub.New(context.Background(), hub.Config{BaseURL: base, DB: storetest.DB(t), Logger: quietLogger(), GroupPosts: policy})
		if err != nil {
			t.Fatal(err)
		}
		serve(t, ln, hb.Handler(), hb.Run)
		post := bob.note("", "<p>Hello hub</p>", map[string]any{"to": []string{hb.Federation().ActorID()}})
		code, body := bob.send(t, hb.Federation().InboxID(), "Create", post)
		p, kept := hb.Discussion().Get(post["id"].(string))
		switch policy {
		case discussion.GroupOpen:
			if code != http.StatusAccepted || !kept || p.Status != discussion.Approved {
				t.Errorf("open: %d %s, kept %v as %q; want approved at once", code, body, kept, p.Status)
			}
		case discussion.GroupOff:
			if code != http.StatusForbidden || !strings.Contains(body, "takes no posts addressed to its Group") || kept {
				t.Errorf("off: %d %s, kept %v; want 403 naming the policy, nothing stored", code, body, kept)
			}
		}
	}
}
