package delivery

import (
	"log/slog"
	"net/http"
	"time"
)

// Options configure a Queue. Zero values take the documented defaults.
type Options struct {
	// Workers is the number of concurrent deliveries (default 4).
	Workers int
	// Lease is how long a claimed job is owned (default 1 min); a replica
	// that dies loses its lease and another replica takes the job.
	Lease time.Duration
	// Owner is this replica's id (default random).
	Owner string
	// Backoff gives the delay before retry number attempt+1 (default
	// DefaultBackoff).
	Backoff func(attempt int) time.Duration
	// MaxAttempts is the number of attempts after which a job is dead
	// (default 16) and the host's failure day recorded.
	MaxAttempts int
	// DeadHostDays is the number of distinct UTC days with exhausted
	// deliveries after which a host is marked unavailable and its jobs are
	// skipped (default 7). One success, or MarkAlive, clears it.
	DeadHostDays int
	// PollInterval is how often idle workers look for due jobs (default
	// 500ms); Enqueue also wakes idle workers at once.
	PollInterval time.Duration
	// AttemptTimeout bounds one POST including signing (default 10s). It is
	// clamped to 80% of Lease so an attempt ends before its lease does.
	AttemptTimeout time.Duration
	// DeadRetention is how long dead jobs are kept (default 30 days).
	DeadRetention time.Duration
	// DedupeWindow is how long Enqueue remembers an (activity, inbox) pair
	// after its job is gone (default 7 days).
	DedupeWindow time.Duration
	// Rescan is how often the in-memory index of live jobs is rebuilt from
	// one scan of delivery_jobs, adopting jobs that other replicas enqueued
	// or left behind when they died (default 1 min; a scan that takes long
	// stretches it to 30 times its duration). A replica delivers the jobs
	// it enqueues itself at once.
	Rescan time.Duration
	// HostRefresh is how often the in-memory host table is reloaded from
	// the store, to see other replicas' marks (default 30s).
	HostRefresh time.Duration
	// Client sends the POSTs (default: a client that does not follow
	// redirects). Production callers pass the SSRF-guarded client.
	Client *http.Client
	// UserAgent is set on every POST unless the Signer sets its own.
	UserAgent string
	// Now is the clock (for tests; default time.Now).
	Now func() time.Time
	// Logger receives give-ups at Warn and retries at Debug.
	Logger *slog.Logger
}

// withDefaults returns o with every zero value replaced by its documented
// default, and AttemptTimeout clamped to 80% of Lease.
func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Owner == "" {
		o.Owner = randomID(8)
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 16
	}
	if o.DeadHostDays <= 0 {
		o.DeadHostDays = 7
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 10 * time.Second
	}
	if limit := o.Lease * 8 / 10; o.AttemptTimeout > limit {
		o.AttemptTimeout = limit
	}
	if o.DeadRetention <= 0 {
		o.DeadRetention = 30 * 24 * time.Hour
	}
	if o.DedupeWindow <= 0 {
		o.DedupeWindow = 7 * 24 * time.Hour
	}
	if o.Rescan <= 0 {
		o.Rescan = time.Minute
	}
	if o.HostRefresh <= 0 {
		o.HostRefresh = 30 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{
			// A redirected POST would carry a signature for the wrong
			// target; treat 3xx as a failed attempt like Mastodon does.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if o.UserAgent == "" {
		o.UserAgent = "ogpnet-delivery"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
