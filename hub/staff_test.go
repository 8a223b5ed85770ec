package hub_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/oidcdev"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// TestStaffMembershipAPI: the JSON membership endpoints sit behind a real
// OIDC login (development provider), the operator role and CSRF.
func TestStaffMembershipAPI(t *testing.T) {
	prov, issuer := oidcdev.StartTest(t, []oidcdev.User{
		{Subject: "ana", Email: "ana@ogp.example", Name: "Ana Staff", Password: "pw", EmailVerified: true},
		{Subject: "bob", Email: "bob@elsewhere.example", Name: "Bob", Password: "pw", EmailVerified: true},
	}, nil)
	n := startNode(t, "tbilisi")

	ln, base := listen(t, "hub", "")
	prov.AddClient(oidcdev.Client{ID: "hub", Secret: "hub-secret", RedirectURIs: []string{base + "/auth/callback"}})
	h, err := hub.New(context.Background(), hub.Config{
		BaseURL: base, DB: storetest.DB(t), Logger: quietLogger(),
		Auth: auth.Config{Issuer: issuer, ClientID: "hub", ClientSecret: "hub-secret", RedirectURL: base + "/auth/callback",
			AllowedEmailDomains: []string{"ogp.example"}, Logger: quietLogger()},
	})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ln, h.Handler(), h.Run)

	browser := func(user string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Transport: loopbackClient.Transport, Timeout: 10 * time.Second}
		if user != "" {
			resp, err := oidcdev.Login(context.Background(), c, base+"/auth/login?next=/", user, "pw")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		return c
	}
	call := func(c *http.Client, method, path, body string, csrf bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Accept", "application/json")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if csrf {
			u, _ := url.Parse(base)
			for _, ck := range c.Jar.Cookies(u) {
				if ck.Name == "_csrf" {
					req.Header.Set(auth.CSRFHeader, ck.Value)
				}
			}
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	if code, _ := call(browser(""), "GET", "/api/v1/staff/members", "", false); code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", code)
	}
	if code, _ := call(browser("bob"), "GET", "/api/v1/staff/members", "", false); code != http.StatusForbidden {
		t.Errorf("non-operator: %d", code)
	}
	ana := browser("ana")
	if code, body := call(ana, "GET", "/api/v1/staff/members", "", false); code != http.StatusOK || !strings.Contains(body, `"items":[]`) {
		t.Fatalf("operator list: %d %s", code, body)
	}
	add := `{"handle":"@tbilisi@` + strings.TrimPrefix(n.base, "http://") + `"}`
	if code, _ := call(ana, "POST", "/api/v1/staff/members", add, false); code != http.StatusForbidden {
		t.Errorf("POST without CSRF token: %d", code)
	}
	code, body := call(ana, "POST", "/api/v1/staff/members", add, true)
	if code != http.StatusCreated || !strings.Contains(body, n.actor()) {
		t.Fatalf("add: %d %s", code, body)
	}
	var list struct {
		Items []struct {
			Actor, State, FollowState, Health string
		} `json:"items"`
	}
	eventually(t, 10*time.Second, "the follow accepted in the member list", func() bool {
		_, body := call(ana, "GET", "/api/v1/staff/members", "", false)
		_ = json.Unmarshal([]byte(body), &list)
		return len(list.Items) == 1 && list.Items[0].FollowState == "accepted" && list.Items[0].Health == "ok"
	})
	code, body = call(ana, "POST", "/api/v1/staff/members/suspend", `{"actor":"`+n.actor()+`"}`, true)
	if code != http.StatusOK || !strings.Contains(body, `"state":"suspended"`) {
		t.Errorf("suspend: %d %s", code, body)
	}
	if code, _ := call(ana, "POST", "/api/v1/staff/members/remove", `{"actor":"http://nobody.localhost/users/x"}`, true); code != http.StatusNotFound {
		t.Errorf("remove unknown: %d", code)
	}
}
