package oidcdev

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// StartTest runs a provider on a loopback httptest server for the test's
// lifetime and returns it with its issuer URL. Clients whose redirect URIs
// are not known yet can be added later with AddClient.
func StartTest(t testing.TB, users []User, clients []Client) (*Provider, string) {
	t.Helper()
	// Listen first: the issuer URL must be known before the provider exists.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("oidcdev: listen: %v", err)
	}
	issuer := "http://" + l.Addr().String()
	p, err := New(Config{Issuer: issuer, Users: users, Clients: clients, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		_ = l.Close()
		t.Fatalf("oidcdev: %v", err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: p.Handler()}}
	srv.Start()
	t.Cleanup(srv.Close)
	return p, issuer
}
