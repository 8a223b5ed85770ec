package web

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
)

// Timeouts bound how long a client may hold a connection. A server-wide
// http.Server.ReadTimeout cannot be lengthened for one route, so only the
// header and idle timeouts are server-wide; the body and response deadlines
// are set per request (http.ResponseController), short by default and
// longer on the routes that take uploads (Options.LongRoutes).
type Timeouts struct {
	// ReadHeader bounds reading the request line and headers (server-wide).
	ReadHeader time.Duration
	// Idle bounds a keep-alive connection waiting for its next request
	// (server-wide).
	Idle time.Duration
	// Read bounds reading a request's body, counted from when its handler
	// starts; Write bounds the whole response from the same moment.
	Read, Write time.Duration
	// LongRead and LongWrite replace Read and Write on Options.LongRoutes
	// (imports: a large upload over a slow line, then a long commit).
	LongRead, LongWrite time.Duration
}

// DefaultTimeouts are the production values; zero fields of a Timeouts take
// them (WithDefaults).
var DefaultTimeouts = Timeouts{
	ReadHeader: 10 * time.Second,
	Idle:       120 * time.Second,
	Read:       60 * time.Second,
	Write:      120 * time.Second, // exports can be large
	LongRead:   5 * time.Minute,
	LongWrite:  11 * time.Minute, // an import may take up to 10 minutes to commit and publish
}

// WithDefaults returns t with each zero field set from DefaultTimeouts.
func (t Timeouts) WithDefaults() Timeouts {
	d := DefaultTimeouts
	for _, f := range []struct {
		dst *time.Duration
		def time.Duration
	}{
		{&t.ReadHeader, d.ReadHeader}, {&t.Idle, d.Idle}, {&t.Read, d.Read},
		{&t.Write, d.Write}, {&t.LongRead, d.LongRead}, {&t.LongWrite, d.LongWrite},
	} {
		if *f.dst <= 0 {
			*f.dst = f.def
		}
	}
	return t
}

// NewHTTPServer returns the http.Server every ogpnet listener uses (the
// standalone node and hub, and the demo's one listener that routes many
// Echo instances by Host), so that their timeouts cannot drift apart: the
// header and idle timeouts of t, and h behind Deadlines with t's default
// read and write deadlines (Echo instances from NewEcho lengthen them on
// their long routes). Zero fields of t take DefaultTimeouts.
func NewHTTPServer(addr string, h http.Handler, t Timeouts) *http.Server {
	t = t.WithDefaults()
	return &http.Server{
		Addr:              addr,
		Handler:           Deadlines(h, t.Read, t.Write),
		ReadHeaderTimeout: t.ReadHeader,
		IdleTimeout:       t.Idle,
		// A net for what runs before any handler (an error answer to a
		// malformed request): the handler's own deadlines replace it.
		WriteTimeout:   t.LongWrite,
		MaxHeaderBytes: 64 << 10,
	}
}

// Deadlines sets the connection's read and write deadlines to now+read and
// now+write before h runs: a body trickled in slower than that is cut off.
func Deadlines(h http.Handler, read, write time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setDeadlines(w, read, write)
		h.ServeHTTP(w, r)
	})
}

// setDeadlines sets both deadlines on w's connection. Writers that cannot
// (a test recorder) are left alone.
func setDeadlines(w http.ResponseWriter, read, write time.Duration) {
	rc := http.NewResponseController(w)
	now := time.Now()
	_ = rc.SetReadDeadline(now.Add(read))
	_ = rc.SetWriteDeadline(now.Add(write))
}

// deadlines is the Echo side of Deadlines, after routing: every route gets
// the default deadlines (so an Echo served by any http.Server is bounded),
// the long routes (registered paths, e.g. "/api/v1/import") the long ones.
// A body cut off by its deadline answers 408 with the allowance, whatever
// the handler made of the read error.
func deadlines(t Timeouts, long []string) echo.MiddlewareFunc {
	isLong := map[string]bool{}
	for _, p := range long {
		isLong[p] = true
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			read, write := t.Read, t.Write
			if isLong[c.Path()] {
				read, write = t.LongRead, t.LongWrite
			}
			setDeadlines(c.Response(), read, write)
			req := c.Request()
			var body *deadlineBody
			if req.Body != nil && req.Body != http.NoBody {
				body = &deadlineBody{ReadCloser: req.Body}
				req.Body = body
			}
			err := next(c)
			if body != nil && body.timedOut && !c.Response().Committed {
				return &Error{Status: http.StatusRequestTimeout, Err: err,
					Message: fmt.Sprintf("the request body did not arrive within %s", read)}
			}
			return err
		}
	}
}

// deadlineBody notes whether reading the body hit the read deadline.
type deadlineBody struct {
	io.ReadCloser
	timedOut bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var ne net.Error
	if err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()) {
		b.timedOut = true
	}
	return n, err
}
