package oidcdev

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// loginTmpl is deliberately plain and loudly labelled: this page must never
// be mistaken for a production sign-in.
var loginTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Development sign-in — not for production</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:28rem;margin:2rem auto">
<p role="alert" style="background:#fde68a;padding:.75rem;border:2px solid #b45309"><strong>Development sign-in — not for production.</strong>
This test identity provider accepts the demo accounts only.</p>
<h1>Sign in</h1>
{{if .Error}}<p role="alert" style="color:#b91c1c">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="id" value="{{.ID}}">
<p><label for="username">Username or e-mail</label><br><input id="username" name="username" autocomplete="username" required value="{{.Username}}"></p>
<p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form></body></html>`))

// indexTmpl is the provider's root page: its address is what the demo
// prints, so it must answer, and say what it is and where to start.
var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Development OpenID provider — not for production</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem">
<main>
<h1>Development OpenID provider</h1>
<p role="note" style="background:#fde68a;padding:.75rem;border:2px solid #b45309"><strong>Not for production.</strong>
This test identity provider knows the demo accounts only.</p>
<p>Sign in from an application: follow its <q>Log in</q> link (or open a page that needs signing in), and it sends you to this provider's sign-in form, then back.</p>
<p>OpenID Connect discovery: <a href="{{.}}/.well-known/openid-configuration">{{.}}/.well-known/openid-configuration</a></p>
</main></body></html>`))

func (p *Provider) indexPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = indexTmpl.Execute(w, p.issuer)
}

type loginView struct {
	Action, ID, Username, Error string
}

func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if _, err := p.store.AuthRequestByID(r.Context(), id); err != nil {
		http.Error(w, "unknown or expired sign-in request; start again from the application", http.StatusBadRequest)
		return
	}
	p.renderLogin(w, http.StatusOK, loginView{ID: id})
}

func (p *Provider) renderLogin(w http.ResponseWriter, status int, v loginView) {
	v.Action = p.issuer + "/login"
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginTmpl.Execute(w, v)
}

// loginSubmit checks the password and, on success, marks the auth request as
// done and sends the browser to the op callback that issues the code.
func (p *Provider) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, username := r.PostForm.Get("id"), r.PostForm.Get("username")
	u, ok := p.store.checkPassword(username, r.PostForm.Get("password"))
	if !ok {
		p.renderLogin(w, http.StatusUnauthorized, loginView{ID: id, Username: username, Error: "Wrong username or password."})
		return
	}
	if err := p.store.completeLogin(id, u.Subject); err != nil {
		http.Error(w, "unknown or expired sign-in request; start again from the application", http.StatusBadRequest)
		return
	}
	p.logger.InfoContext(r.Context(), "oidcdev: signed in", "sub", u.Subject)
	http.Redirect(w, r, p.callbackURL(id), http.StatusFound)
}

// Login signs in headlessly, as a browser would: it GETs startURL (e.g. a
// relying party's /auth/login), follows redirects to this kind of provider's
// login form, posts username and password, and follows the redirect chain
// back through the relying party's callback. client must have a cookie jar
// (the relying party binds the login to the browser) and follow redirects
// (the default). It returns the final response, whose body the caller closes.
func Login(ctx context.Context, client *http.Client, startURL, username, password string) (*http.Response, error) {
	if client.Jar == nil {
		return nil, errors.New("oidcdev: Login needs a client with a cookie jar")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, startURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	page := resp.Request.URL
	if resp.StatusCode != http.StatusOK || page.Path != "/login" || page.Query().Get("id") == "" {
		return nil, fmt.Errorf("oidcdev: expected the login form, got %s at %s", resp.Status, page)
	}
	form := url.Values{"id": {page.Query().Get("id")}, "username": {username}, "password": {password}}
	action := *page
	action.RawQuery = ""
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return client.Do(req)
}
