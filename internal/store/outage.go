package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// ErrUnavailable means the store could not be reached: the operation did
// not happen (or its outcome is unknown) and may be retried later. Callers
// test with Unavailable, which also recognises the driver's own errors.
var ErrUnavailable = errors.New("the data store is unavailable")

// RetryAfter is the Retry-After (in seconds) answered while the store is
// unavailable: about the time the driver takes to notice it came back.
const RetryAfter = 10

// Unavailable reports whether err means that the store is out of reach
// rather than that it refused the operation: no server could be selected
// (stopped, refused, unreachable), the connection broke (reset, closed,
// EOF), or an operation timed out inside the driver. Errors the store
// answered (duplicate key, validation, not found) are not unavailability.
// This is the one classification: the web error handler (503), the inbox
// (federation.ErrUnavailable) and background loops (quiet back-off) use it.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, mongo.ErrClientDisconnected) ||
		errors.Is(err, driver.ErrDeadlineWouldBeExceeded) {
		return true
	}
	var sse topology.ServerSelectionError
	var wqe topology.WaitQueueTimeoutError
	var ce topology.ConnectionError
	if errors.As(err, &sse) || errors.As(err, &wqe) || errors.As(err, &ce) || mongo.IsNetworkError(err) {
		return true
	}
	for _, e := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	// A deadline that ran out inside a driver operation: the store did not
	// answer in time. A bare context error (the request's own deadline,
	// outside the driver) is left to the caller.
	var cmd mongo.CommandError
	if errors.As(err, &cmd) && mongo.IsTimeout(err) {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	return false
}

// Outage is what a background loop (delivery, tailing, backfill, member
// flush) keeps about the store's reachability: it logs the start and the
// end of an outage once each instead of one warning per attempt, and gives
// the loop a growing pause between attempts while the store is away.
// The zero value is ready; it is safe for concurrent use.
type Outage struct {
	// What names the loop in the log ("delivery", "objects: tail").
	What string
	// Log receives the two messages (default slog.Default()).
	Log *slog.Logger

	mu    sync.Mutex
	since time.Time
	fails int
}

// Failed records err. It reports whether err is the store being out of
// reach (then it was logged, at most once per outage, and the caller should
// pause for Wait); false means err is something else for the caller to log.
func (o *Outage) Failed(err error) bool {
	if !Unavailable(err) {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fails++
	if o.since.IsZero() {
		o.since = time.Now()
		o.log().Warn("store unavailable: pausing until it answers", "loop", o.What, "err", err)
	}
	return true
}

// OK records a successful store operation, ending an outage if there was
// one.
func (o *Outage) OK() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.since.IsZero() {
		o.log().Info("store available again: resuming", "loop", o.What, "outage", time.Since(o.since).Round(time.Millisecond))
	}
	o.since, o.fails = time.Time{}, 0
}

// Down reports whether the last store operation found the store away.
func (o *Outage) Down() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.since.IsZero()
}

// Wait is the pause before the next attempt during an outage: 1 s, 2 s,
// then 4 s at most, so that a returning store is noticed within seconds
// while a long outage costs one failed attempt every few seconds.
func (o *Outage) Wait() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return min(time.Second<<min(max(o.fails-1, 0), 2), 4*time.Second)
}

func (o *Outage) log() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.Default()
}

// ServeOptions configure Serve.
type ServeOptions struct {
	// DataDir is the data folder; the SQLite files live in DataDir/db, as
	// with the store Open embeds.
	DataDir string
	// Addr is the TCP address to listen on, e.g. 127.0.0.1:27017.
	Addr string
	// Logger receives the store's errors.
	Logger *slog.Logger
	// Ready, if set, is called once the store listens.
	Ready func(addr string)
}

// Serve runs the embedded store (FerretDB on SQLite in DataDir) over the
// MongoDB wire protocol on Addr until ctx ends, then closes the listener
// and every connection and returns. Several processes on one machine can
// share it with --mongo-uri mongodb://Addr/ (each in its own database).
func Serve(ctx context.Context, opts ServeOptions) error {
	if opts.DataDir == "" || opts.Addr == "" {
		return errors.New("store: serve needs a data folder and an address")
	}
	dir := filepath.Join(opts.DataDir, "db")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("store: data folder: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	f, err := newFerret(abs, opts.Addr, opts.Logger)
	if err != nil {
		return err
	}
	if opts.Ready != nil {
		opts.Ready(opts.Addr)
	}
	return f.Run(ctx)
}

// Ping checks that the store answers, within at most limit (readiness
// probes must answer fast, even while the store is away).
func (s *Store) Ping(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return s.Client.Ping(ctx, nil)
}
