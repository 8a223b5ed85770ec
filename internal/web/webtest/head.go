// Package webtest holds checks that the node's and the hub's HTTP tests
// share. It imports no server package (internal knows no server).
package webtest

import (
	"io"
	"net/http"
	"strconv"
	"testing"
)

// HeadLikeGet sends GET and HEAD to u with the Accept header accept and
// checks that both answer want, and that HEAD carries the GET's
// Content-Type, Vary and Content-Length with no body (RFC 9110 §9.3.2).
// Pages render the same bytes every time, so the lengths must match.
func HeadLikeGet(t testing.TB, c *http.Client, u, accept string, want int) {
	t.Helper()
	send := func(method string) (*http.Response, []byte) {
		req, err := http.NewRequest(method, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("Accept-Encoding", "identity") // lengths as sent
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	get, getBody := send(http.MethodGet)
	head, headBody := send(http.MethodHead)
	length := head.Header.Get("Content-Length")
	switch {
	case get.StatusCode != want:
		t.Errorf("GET %s (%s): %d, want %d", u, accept, get.StatusCode, want)
	case head.StatusCode != want:
		t.Errorf("HEAD %s (%s): %d, want %d like GET", u, accept, head.StatusCode, want)
	case len(headBody) != 0:
		t.Errorf("HEAD %s sent a body: %q", u, headBody)
	case head.Header.Get("Content-Type") != get.Header.Get("Content-Type"):
		t.Errorf("HEAD %s: Content-Type %q, GET has %q", u, head.Header.Get("Content-Type"), get.Header.Get("Content-Type"))
	case head.Header.Get("Vary") != get.Header.Get("Vary"):
		t.Errorf("HEAD %s: Vary %q, GET has %q", u, head.Header.Get("Vary"), get.Header.Get("Vary"))
	case length != strconv.Itoa(len(getBody)):
		t.Errorf("HEAD %s: Content-Length %q, GET sent %d bytes", u, length, len(getBody))
	}
}
