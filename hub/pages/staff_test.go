package pages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// fakeMembers stands in for *members.Service, whose real work (WebFinger,
// Follow over signed HTTP) is tested in hub/members and end to end; the
// staff page's own job is to show what membership reports and to call it.
type fakeMembers struct {
	mu    sync.Mutex
	model *readmodel.Model
	list  []members.Member
	calls []string
}

func (f *fakeMembers) List(context.Context) ([]members.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]members.Member(nil), f.list...), nil
}

func (f *fakeMembers) Add(_ context.Context, h string) (members.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "add "+h)
	if !strings.HasPrefix(h, "@") {
		return members.Member{}, errors.New("no such account")
	}
	m := members.Member{Actor: "http://x.localhost/users/x", Handle: h, Name: "X", State: members.StateActive, FollowState: members.FollowPending}
	f.list = append(f.list, m)
	return m, nil
}

func (f *fakeMembers) set(op, actor, state string) (members.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+actor)
	for i := range f.list {
		if f.list[i].Actor == actor {
			f.list[i].State = state
			f.model.SetPilot(readmodel.PilotInfo{Actor: actor, Name: f.list[i].Name, Handle: f.list[i].Handle, State: state})
			return f.list[i], nil
		}
	}
	return members.Member{}, members.ErrNotMember
}

func (f *fakeMembers) Suspend(_ context.Context, a string) (members.Member, error) {
	return f.set("suspend", a, members.StateSuspended)
}
func (f *fakeMembers) Remove(_ context.Context, a string) (members.Member, error) {
	return f.set("remove", a, members.StateRemoved)
}
func (f *fakeMembers) Resume(_ context.Context, a string) (members.Member, error) {
	return f.set("resume", a, members.StateActive)
}

func newAuth(t *testing.T) *auth.Auth {
	t.Helper()
	a, err := auth.New(context.Background(), storetest.DB(t), auth.Config{
		// Discovery fails (nothing listens there); sign-in is not needed
		// because the tests use API tokens, which the auth package issues.
		Issuer: "http://127.0.0.1:1/", ClientID: "hub", RedirectURL: "http://hub.localhost/auth/callback",
		AllowedEmailDomains: []string{"opengovpartnership.org"},
		HTTPClient:          &http.Client{Timeout: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func token(t *testing.T, a *auth.Auth, operator bool) string {
	t.Helper()
	tok, _, err := a.CreateToken(context.Background(), &auth.Principal{Subject: fmt.Sprint("s", operator), Name: "Ana Staff", Email: "ana@opengovpartnership.org", Operator: operator}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func do(t *testing.T, method, u, tok string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestStaffMembersPage(t *testing.T) {
	m := fillModel(t)
	a := newAuth(t)
	fm := &fakeMembers{model: m, list: []members.Member{
		{Actor: madridActor, Handle: "@madrid@madrid.localhost:8080", Name: "Madrid", State: members.StateActive,
			FollowState: members.FollowAccepted, LastDelivery: today.Add(-time.Hour), Lag: 1500 * time.Millisecond},
		{Actor: jaliscoActor, Handle: "@jalisco@jalisco.localhost:8080", Name: "Jalisco", State: members.StateActive,
			FollowState: members.FollowPending},
	}}
	srv := newServer(t, m, Deps{Auth: a, Members: fm})

	// Anonymous browsers are sent to sign in; non-operators are refused.
	res, _ := do(t, "GET", srv.URL+PathStaff, "", nil)
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/auth/login") {
		t.Fatalf("anonymous: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := do(t, "GET", srv.URL+PathStaff, token(t, a, false), nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("non-operator: %d", res.StatusCode)
	}
	if res, _ := do(t, "POST", srv.URL+PathStaffAction, "", url.Values{"actor": {madridActor}, "op": {"remove"}}); res.StatusCode < 400 {
		t.Fatalf("anonymous POST: %d", res.StatusCode)
	}

	op := token(t, a, true)
	res, body := do(t, "GET", srv.URL+PathStaff, op, nil)
	if res.StatusCode != 200 {
		t.Fatalf("staff page: %d\n%s", res.StatusCode, body)
	}
	mustContain(t, body, "staff", "Member governments", "@madrid@madrid.localhost:8080", "Accepted", "Requested",
		"Follow: Requested", "OK", "1.5 s", `name="handle"`, `value="suspend"`, "Logged in as Ana Staff")

	// Add by handle: redirect with a confirmation (POST/redirect/GET).
	res, _ = do(t, "POST", srv.URL+PathStaffAdd, op, url.Values{"handle": {"@x@x.localhost"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != PathStaff+"?done=added" {
		t.Fatalf("add: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = do(t, "GET", srv.URL+PathStaff+"?done=added", op, nil)
	mustContain(t, body, "after add", "The government was added", "@x@x.localhost")
	// A failing add re-renders the form with the value and the reason.
	res, body = do(t, "POST", srv.URL+PathStaffAdd, op, url.Values{"handle": {"nonsense"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad add: %d", res.StatusCode)
	}
	mustContain(t, body, "bad add", "Could not add this government: no such account", `value="nonsense"`)

	// Suspend hides the pilot from public pages.
	res, _ = do(t, "POST", srv.URL+PathStaffAction, op, url.Values{"actor": {jaliscoActor}, "op": {"suspend"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d", res.StatusCode)
	}
	if s, _ := get(t, srv.URL+"/pilots/jalisco@jalisco.localhost:8080", "en"); s != 404 {
		t.Errorf("suspended pilot page = %d, want 404", s)
	}
	_, body = do(t, "GET", srv.URL+PathStaff, op, nil)
	mustContain(t, body, "after suspend", "Suspended", `value="resume"`)
	// Unknown op and unknown member.
	if res, _ := do(t, "POST", srv.URL+PathStaffAction, op, url.Values{"actor": {jaliscoActor}, "op": {"explode"}}); res.StatusCode != 400 {
		t.Errorf("bad op: %d", res.StatusCode)
	}
	if res, _ := do(t, "POST", srv.URL+PathStaffAction, op, url.Values{"actor": {"http://nobody"}, "op": {"remove"}}); res.StatusCode != 404 {
		t.Errorf("unknown member: %d", res.StatusCode)
	}
	want := []string{"add @x@x.localhost", "add nonsense", "suspend " + jaliscoActor, "remove http://nobody"}
	if strings.Join(fm.calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls = %q, want %q", fm.calls, want)
	}
}

func TestStaffRoutesNeedAuth(t *testing.T) {
	// Without Auth the staff routes do not exist, rather than being open.
	srv := newServer(t, fillModel(t), Deps{Members: &fakeMembers{}})
	if s, _ := get(t, srv.URL+PathStaff, "en"); s != 404 {
		t.Errorf("staff without auth = %d, want 404", s)
	}
}
