// Package delivery is the durable outgoing delivery queue: one job per
// (activity, inbox) kept in the store, claimed by workers with leases so that
// several replicas can share one database, retried with backoff for days, and
// a per-host failure tracker that stops wasting work on dead servers.
//
// Store layout (see docs/architecture.md and design §3):
//
//   - delivery_jobs: live jobs only (pending or leased). Done jobs are deleted
//     and exhausted or rejected jobs are moved out, because the embedded store
//     scans the whole collection on every claim.
//   - delivery_bodies: the exact bytes to POST, once per activity (a fan-out
//     to 500 inboxes stores one body, and job documents stay small).
//   - delivery_dead: jobs given up on, with their body, kept for inspection
//     (pruned after Options.DeadRetention).
//   - delivery_hosts: per-host last success and failure, cached in memory
//     and refreshed periodically.
//   - delivery_host_days: one document per host and UTC day with an
//     exhausted delivery since the host's last success; a host with
//     Options.DeadHostDays of them is unavailable. Inserted and deleted,
//     never updated: an update is read-then-write on the embedded store, so
//     a failure recorded alongside a concurrent success could write the
//     cleared days back and mark a live host unavailable.
//   - delivery_claims: one tiny document per state change of a job (see
//     below), pruned after a day.
//   - delivery_seen: one tiny marker per enqueued job, so that enqueueing
//     again adds nothing after the job is done (pruned after DedupeWindow).
//   - delivery_stats: running totals (delivered, skipped), one document per
//     replica, flushed in batches.
//
// # Why claims are inserts
//
// The embedded FerretDB 1.24 runs findAndModify and update as "query, then
// write by _id" without a transaction, so two workers can both "win" a
// findOneAndUpdate on the same job (seen in tests: three POSTs for one job).
// The one write it makes atomic is an insert with a unique _id. So every
// state change of a job (claim, retry, dead, done) first inserts the claim
// key "<nonce>.<gen>", where nonce identifies this enqueueing of the job and
// gen counts its state changes; the job document then moves to gen+1. Only
// one writer can insert a given key, so only one worker owns each step, and a
// slow worker whose lease expired finds its next key taken and writes
// nothing. The same protocol is correct, if a little more costly, on MongoDB.
//
// Delivery is at-least-once: a replica that stalls past its lease may still
// POST after another replica has; receivers dedupe by activity id.
//
// On the embedded store every read or update of delivery_jobs costs a scan
// of it (design §3), so throughput falls as the backlog grows: measured
// about 45 jobs/s with 500 jobs queued, against thousands per second on
// MongoDB's indexes. Claims therefore come in batches, _id lookups are used
// wherever possible, and nothing done stays in delivery_jobs.
package delivery

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection names used by the queue.
const (
	JobsCollection   = "delivery_jobs"
	DeadCollection   = "delivery_dead"
	HostsCollection  = "delivery_hosts"
	DaysCollection   = "delivery_host_days"
	StatsCollection  = "delivery_stats"
	ClaimsCollection = "delivery_claims"
	SeenCollection   = "delivery_seen"
	BodiesCollection = "delivery_bodies"
)

// claimRetention is how long claim keys are kept. A key only has to outlive
// any worker that could still try to insert it: one attempt plus a stall.
const claimRetention = 24 * time.Hour

// Job states stored in delivery_jobs.
const (
	statePending = "pending"
	stateLeased  = "leased"
	stateDead    = "dead" // transient: set just before the job moves to delivery_dead
)

// Reasons recorded on dead jobs.
const (
	// ReasonExhausted: every attempt failed with a retryable error.
	ReasonExhausted = "exhausted"
	// ReasonRejected: the receiver answered a permanent 4xx.
	ReasonRejected = "rejected"
	// ReasonNoBody: the activity's body was pruned before delivery.
	ReasonNoBody = "no body"
)

// bodyCacheSize bounds the in-memory body cache (activities, ~2 KB each).
const bodyCacheSize = 256

// ContentType is the media type of every delivery POST.
const ContentType = "application/activity+json"

// ErrInvalidInbox is wrapped by Enqueue's error for inbox IRIs it skipped.
var ErrInvalidInbox = errors.New("delivery: invalid inbox IRI")

// Signer signs an outgoing POST in place (the federation package passes
// httpsig.Sign bound to the actor's key).
type Signer func(req *http.Request, body []byte) error

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

// Stats are the queue's counts across all replicas sharing the database.
type Stats struct {
	Pending          int64 // waiting, including scheduled retries
	Leased           int64 // claimed by a worker right now (or by a dead replica until its lease ends)
	Dead             int64 // given up on, kept in delivery_dead
	Delivered        int64 // total successful deliveries (done jobs are deleted, so this is a counter)
	Skipped          int64 // total jobs dropped because their host was unavailable
	HostsUnavailable int64 // hosts currently marked unavailable
}

// HostStatus is the failure tracker's view of one host.
type HostStatus struct {
	Host             string
	LastSuccess      time.Time // zero if never
	LastFailure      time.Time // zero if never
	FailureDays      []string  // UTC dates (2006-01-02) with exhausted deliveries since the last success
	Unavailable      bool
	UnavailableSince time.Time
}

// Queue is a durable delivery queue backed by the store.
type Queue struct {
	jobs, dead, hosts, stats, claims, seen, bodies *mongo.Collection
	days                                           *mongo.Collection
	sign                                           Signer
	o                                              Options
	log                                            *slog.Logger
	wake                                           chan struct{}

	mu         sync.Mutex
	hostCache  map[string]*hostEntry
	clears     int             // clearHost calls so far: failure days read before one are stale
	claiming   map[string]bool // jobs this replica is claiming or holds: not claimed twice locally
	inFlight   atomic.Int64
	bodyCache  map[string][]byte // activity id → body, bounded by bodyCacheSize
	freed      chan struct{}     // a worker became free: the dispatcher may claim more
	finished   chan *job         // delivered or skipped jobs for the recorder to delete
	delivered  int64             // not yet flushed to delivery_stats
	skipped    int64
	flushMu    sync.Mutex // serialises counter flushes
	lastPruned time.Time

	// afterProcess, if set (tests only), runs when a claimed job's outcome
	// including host bookkeeping has been fully recorded.
	afterProcess func(*job)
	// beforeClaimUpdate, if set (tests only), runs in claim between the
	// claim key insert and the job's update, and returns the update's
	// context (a cancelled one simulates a failed update).
	beforeClaimUpdate func(context.Context, *job) context.Context
}

// hostEntry is the cached host document plus when this replica last wrote
// lastSuccess, so that a steady stream of successes costs no writes.
type hostEntry struct {
	doc          hostDoc
	successSaved time.Time // real time of the last lastSuccess write
}

type hostDoc struct {
	Host        string    `bson:"_id"`
	LastSuccess time.Time `bson:"lastSuccess,omitempty"`
	LastFailure time.Time `bson:"lastFailure,omitempty"`
	// Derived from delivery_host_days (see setDays), not stored here.
	FailureDays      []string  `bson:"-"`
	Unavailable      bool      `bson:"-"`
	UnavailableSince time.Time `bson:"-"`
}

// dayDoc is one failure day of a host in delivery_host_days.
type dayDoc struct {
	ID   string    `bson:"_id"` // host|day: a unique insert per day
	Host string    `bson:"host"`
	Day  string    `bson:"day"` // UTC date, 2006-01-02
	At   time.Time `bson:"at"`  // first exhausted delivery of the day
}

// setDays derives the failure record from the host's failure days; the
// host is unavailable from the moment its limit-th day was recorded.
func (h *hostDoc) setDays(days []dayDoc, limit int) {
	slices.SortFunc(days, func(a, b dayDoc) int { return a.At.Compare(b.At) })
	h.FailureDays = nil
	for _, d := range days {
		h.FailureDays = append(h.FailureDays, d.Day)
	}
	h.Unavailable = len(days) >= limit
	h.UnavailableSince = time.Time{}
	if h.Unavailable {
		h.UnavailableSince = days[limit-1].At
	}
}

// clean reports whether the host has nothing a success would need to clear.
func (h *hostDoc) clean() bool { return !h.Unavailable && len(h.FailureDays) == 0 }

// job is one delivery_jobs (or delivery_dead) document. The body lives once
// per activity in delivery_bodies (a fan-out to 500 inboxes stores it once,
// and every scan of delivery_jobs decodes small documents); dead jobs carry
// their own copy for inspection. Bodies are BSON binary: the exact bytes to
// POST, never re-encoded.
type job struct {
	ID         string    `bson:"_id"`
	Activity   string    `bson:"activity"`
	Inbox      string    `bson:"inbox"`
	Host       string    `bson:"host"`
	Body       []byte    `bson:"body,omitempty"`
	State      string    `bson:"state"`
	Due        time.Time `bson:"due"`
	Attempts   int       `bson:"attempts"`
	Owner      string    `bson:"owner,omitempty"`
	Nonce      string    `bson:"nonce"` // this enqueueing of the job (claim keys are per nonce)
	Gen        int       `bson:"gen"`   // state changes so far; the next one inserts claim key nonce.gen
	LeaseUntil time.Time `bson:"leaseUntil,omitempty"`
	Created    time.Time `bson:"created"`
	LastStatus int       `bson:"lastStatus,omitempty"`
	LastError  string    `bson:"lastError,omitempty"`
	Reason     string    `bson:"reason,omitempty"`
	DeadAt     time.Time `bson:"deadAt,omitempty"`
}

// New opens the queue on db, creating its indexes idempotently and loading
// the host table.
func New(ctx context.Context, db *mongo.Database, sign Signer, opts Options) (*Queue, error) {
	if db == nil || sign == nil {
		return nil, errors.New("delivery: New needs a database and a Signer")
	}
	o := opts
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
	q := &Queue{
		jobs:      db.Collection(JobsCollection),
		dead:      db.Collection(DeadCollection),
		hosts:     db.Collection(HostsCollection),
		days:      db.Collection(DaysCollection),
		stats:     db.Collection(StatsCollection),
		claims:    db.Collection(ClaimsCollection),
		seen:      db.Collection(SeenCollection),
		bodies:    db.Collection(BodiesCollection),
		bodyCache: map[string][]byte{},
		claiming:  map[string]bool{},
		sign:      sign,
		o:         o,
		log:       o.Logger.With("component", "delivery", "owner", o.Owner),
		wake:      make(chan struct{}, 1),
		freed:     make(chan struct{}, 1),
		hostCache: map[string]*hostEntry{},
	}
	// The embedded store ignores these for queries (design §3) but MongoDB
	// uses them for the claim, count and prune shapes. One index per call:
	// FerretDB 1.24.2 panics (and drops the connection) on a createIndexes
	// of several indexes that already exist, i.e. on every second start.
	for _, ix := range []struct {
		c    *mongo.Collection
		keys bson.D
	}{
		{q.jobs, bson.D{{Key: "state", Value: 1}, {Key: "due", Value: 1}}},
		{q.jobs, bson.D{{Key: "state", Value: 1}, {Key: "leaseUntil", Value: 1}}},
		{q.dead, bson.D{{Key: "deadAt", Value: 1}}},
		{q.claims, bson.D{{Key: "at", Value: 1}}},
		{q.seen, bson.D{{Key: "at", Value: 1}}},
		{q.bodies, bson.D{{Key: "at", Value: 1}}},
		{q.days, bson.D{{Key: "host", Value: 1}}},
	} {
		if err := store.EnsureIndexes(ctx, ix.c, mongo.IndexModel{Keys: ix.keys}); err != nil {
			return nil, err
		}
	}
	if err := q.refreshHosts(ctx); err != nil {
		return nil, err
	}
	return q, nil
}

// DefaultBackoff is Mastodon-like: attempt⁴ seconds ±50% jitter, plus 15 s,
// capped at one day. Sixteen attempts spread over roughly two to three days.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	p := math.Pow(float64(attempt), 4)
	d := time.Duration((p*(0.5+mrand.Float64()) + 15) * float64(time.Second))
	return min(d, 24*time.Hour)
}

// JobID is the _id of the job delivering activityID to inbox: derived, so
// enqueueing the same activity twice inserts nothing new.
func JobID(activityID, inbox string) string {
	h := sha256.Sum256([]byte(activityID + "\x00" + inbox))
	return hex.EncodeToString(h[:20])
}

// normalizeInbox lowercases scheme and host and drops the fragment, so
// trivially different spellings of one inbox get one job. It returns the
// inbox to POST to and its host key.
func normalizeInbox(s string) (string, string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", "", err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", "", fmt.Errorf("%q: need an http(s) URL with a host", s)
	}
	u.Host = strings.ToLower(u.Host)
	u.Fragment, u.RawFragment = "", ""
	return u.String(), u.Host, nil
}

// normalizeHost maps a host name as callers pass it (from an actor IRI, with
// a port if non-default) to the key used in delivery_hosts.
func normalizeHost(h string) string { return strings.ToLower(strings.TrimSpace(h)) }

// Enqueue records one job per distinct inbox. body is the exact JSON to POST.
// When Enqueue returns nil, the jobs are in the store (durable). Enqueueing
// an (activity, inbox) pair again within DedupeWindow adds nothing, even if
// the first job was already delivered. Invalid inbox IRIs are skipped and
// reported in an error wrapping ErrInvalidInbox after the valid ones are
// stored.
//
// Done jobs are deleted (the jobs collection must stay small), so the
// record of what was enqueued is a separate insert-only marker per job in
// delivery_seen. Reading it would be a scan, so it is consulted the one way
// that is cheap and atomic on the embedded store, by inserting:
//  1. insert the jobs, due after enqueueHold (duplicates are live jobs);
//  2. insert a marker per new job; a duplicate marker means this job was
//     enqueued and finished before, so Enqueue takes the job's first claim
//     key itself (no worker can then claim it) and deletes it.
//
// Nothing is updated, so the common path costs two inserts and no scan. A
// crash between the steps delivers the jobs (they are new or harmlessly
// repeated); a store slower than enqueueHold may let a repeated job through,
// which receivers tolerate (they dedupe by activity id).
func (q *Queue) Enqueue(ctx context.Context, activityID string, body []byte, inboxes []string) error {
	if activityID == "" {
		return errors.New("delivery: empty activity id")
	}
	now := q.o.Now()
	seen := make(map[string]bool, len(inboxes))
	var jobs []*job
	var bad []string
	for _, in := range inboxes {
		inbox, host, err := normalizeInbox(in)
		if err != nil {
			bad = append(bad, in)
			continue
		}
		if seen[inbox] {
			continue
		}
		seen[inbox] = true
		jobs = append(jobs, &job{
			ID: JobID(activityID, inbox), Activity: activityID, Inbox: inbox, Host: host,
			State: statePending, Due: now.Add(enqueueHold), Created: now, Nonce: randomID(8),
		})
	}
	if len(jobs) > 0 {
		// Body first: a crash before the jobs leaves only an orphan body,
		// pruned later. A repeated Enqueue keeps the first body.
		_, err := q.bodies.InsertOne(ctx, bson.M{"_id": activityID, "body": body, "at": now})
		if err != nil && !store.IsDuplicate(err) {
			return fmt.Errorf("delivery: enqueue %s: %w", activityID, err)
		}
	}
	if err := q.insertJobs(ctx, jobs, now); err != nil {
		return fmt.Errorf("delivery: enqueue %s: %w", activityID, err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %q", ErrInvalidInbox, bad)
	}
	return nil
}

// enqueueHold is how long a new job stays invisible to workers while
// Enqueue checks it against delivery_seen: federation latency it adds.
const enqueueHold = 250 * time.Millisecond

func (q *Queue) insertJobs(ctx context.Context, jobs []*job, now time.Time) error {
	if len(jobs) == 0 {
		return nil
	}
	docs := make([]any, len(jobs))
	for i, j := range jobs {
		docs[i] = j
	}
	fresh, err := insertUnique(ctx, q.jobs, docs)
	if err != nil {
		return err
	}
	var added []*job
	var markers []any
	for i, j := range jobs {
		if fresh[i] {
			added = append(added, j)
			markers = append(markers, bson.M{"_id": j.ID, "at": now})
		}
	}
	if len(added) == 0 {
		return nil
	}
	firstTime, err := insertUnique(ctx, q.seen, markers)
	if err != nil {
		return err
	}
	var again []*job
	for i, j := range added {
		if !firstTime[i] {
			again = append(again, j)
		}
	}
	if len(again) > 0 {
		won, err := q.advanceMany(ctx, again, "")
		if err != nil {
			return err
		}
		var ids []string
		for i, j := range again {
			if won[i] {
				ids = append(ids, j.ID)
			}
		}
		if len(ids) > 0 {
			// Rare path (a repeated Enqueue), so the scan is acceptable. If
			// it fails the jobs stay, unclaimable, until sweep removes them.
			if _, err := q.jobs.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}}); err != nil {
				return err
			}
		}
	}
	if len(again) < len(added) {
		q.wakeAfter(enqueueHold)
	}
	return nil
}

// insertUnique inserts docs unordered and reports which were new: a
// duplicate-key error marks one that already existed. This is the one write
// the embedded store makes atomic, so claims and dedupe are built on it.
func insertUnique(ctx context.Context, c *mongo.Collection, docs []any) ([]bool, error) {
	fresh := make([]bool, len(docs))
	for i := range fresh {
		fresh[i] = true
	}
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil {
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			return nil, err
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 || we.Index < 0 || we.Index >= len(docs) {
				return nil, err
			}
			fresh[we.Index] = false
		}
	}
	return fresh, nil
}

// poke wakes the idle dispatcher without blocking.
func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// wakeAfter pokes the dispatcher once new jobs come off their hold.
func (q *Queue) wakeAfter(d time.Duration) { time.AfterFunc(d+5*time.Millisecond, q.poke) }

// Run starts the workers and returns when ctx is cancelled and every
// in-flight delivery has finished and been recorded (graceful drain). Call
// it once per Queue; run more replicas as more Queues (processes).
//
// One dispatcher claims jobs in batches (one scan of delivery_jobs per batch
// rather than per job, design §3) and hands them to Workers goroutines; a
// recorder deletes delivered jobs in batches for the same reason.
func (q *Queue) Run(ctx context.Context) error {
	q.sweep(ctx)
	work := make(chan *job, q.o.Workers)
	q.finished = make(chan *job, 4*q.o.Workers)
	var workers, rest sync.WaitGroup
	for range q.o.Workers {
		workers.Go(func() {
			for j := range work {
				q.runJob(ctx, j)
			}
		})
	}
	rest.Go(q.recorder)
	rest.Go(func() { q.housekeeping(ctx) })
	q.dispatch(ctx, work)
	close(work)
	workers.Wait() // drain: claimed jobs are attempted, not abandoned
	close(q.finished)
	rest.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	q.flushCounters(fctx)
	return nil
}

// dispatch claims due jobs while there is room for them, until ctx ends.
func (q *Queue) dispatch(ctx context.Context, work chan<- *job) {
	idle := time.NewTimer(0)
	defer idle.Stop()
	for ctx.Err() == nil {
		// Claim only what workers can start soon: 2×Workers in hand at most,
		// so a claimed job does not wait out its lease in our buffer.
		room := cap(work) + q.o.Workers - len(work) - int(q.inFlight.Load())
		var jobs []*job
		if room > 0 {
			var err error
			jobs, err = q.claim(ctx, room)
			if err != nil && ctx.Err() == nil {
				q.log.Warn("delivery: claim", "err", err)
			}
		}
		for _, j := range jobs {
			work <- j // there is room: never blocks for long
		}
		if len(jobs) > 0 && len(jobs) == room {
			continue // probably more due
		}
		idle.Reset(q.o.PollInterval)
		select {
		case <-ctx.Done():
		case <-q.wake:
		case <-q.freed:
		case <-idle.C:
		}
	}
}

// runJob attempts one claimed job unless its lease is about to run out (it
// waited too long in the buffer): then it is left for whoever claims it next.
func (q *Queue) runJob(ctx context.Context, j *job) {
	q.inFlight.Add(1)
	defer func() {
		q.inFlight.Add(-1)
		select {
		case q.freed <- struct{}{}:
		default:
		}
	}()
	if !q.leaseCovers(j) {
		q.release(j.ID)
		return
	}
	q.process(ctx, j)
}

// leaseCovers reports whether a whole attempt started now ends within j's
// lease.
func (q *Queue) leaseCovers(j *job) bool {
	return !q.o.Now().Add(q.o.AttemptTimeout).After(j.LeaseUntil)
}

// housekeeping refreshes the host table, flushes counters and prunes old
// dead jobs until ctx ends.
func (q *Queue) housekeeping(ctx context.Context) {
	hostT := time.NewTicker(q.o.HostRefresh)
	defer hostT.Stop()
	flushT := time.NewTicker(5 * time.Second)
	defer flushT.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hostT.C:
			if err := q.refreshHosts(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("delivery: refresh hosts", "err", err)
			}
		case <-flushT.C:
			q.flushCounters(ctx)
			if time.Since(q.lastPruned) > time.Hour {
				q.sweep(ctx)
			}
		}
	}
}

// sweep finishes moves to delivery_dead that a crash interrupted, and prunes
// dead jobs older than DeadRetention.
func (q *Queue) sweep(ctx context.Context) {
	q.lastPruned = time.Now()
	cur, err := q.jobs.Find(ctx, bson.M{"state": stateDead})
	if err == nil {
		var stuck []job
		if err = cur.All(ctx, &stuck); err == nil {
			for i := range stuck {
				err = errors.Join(err, q.moveDead(ctx, &stuck[i]))
			}
		}
	}
	if err != nil && ctx.Err() == nil {
		q.log.Warn("delivery: sweep", "err", err)
	}
	cutoff := q.o.Now().Add(-q.o.DeadRetention)
	if _, err := q.dead.DeleteMany(ctx, bson.M{"deadAt": bson.M{"$lt": cutoff}}); err != nil && ctx.Err() == nil {
		q.log.Warn("delivery: prune dead jobs", "err", err)
	}
	// Claim keys carry real time, not Options.Now: a fake clock jumping
	// ahead must not expire keys that a live worker may still insert.
	if _, err := q.claims.DeleteMany(ctx, bson.M{"at": bson.M{"$lt": time.Now().Add(-claimRetention)}}); err != nil && ctx.Err() == nil {
		q.log.Warn("delivery: prune claim keys", "err", err)
	}
	if _, err := q.seen.DeleteMany(ctx, bson.M{"at": bson.M{"$lt": q.o.Now().Add(-q.o.DedupeWindow)}}); err != nil && ctx.Err() == nil {
		q.log.Warn("delivery: prune enqueue markers", "err", err)
	}
	// Bodies outlive every job that needs them: 16 default attempts span
	// about 3 days; a job whose body is gone dies with reason "no body".
	if _, err := q.bodies.DeleteMany(ctx, bson.M{"at": bson.M{"$lt": q.o.Now().Add(-max(q.o.DedupeWindow, 7*24*time.Hour))}}); err != nil && ctx.Err() == nil {
		q.log.Warn("delivery: prune bodies", "err", err)
	}
}

// claim leases up to max of the most overdue jobs: pending and due, or
// leased by someone whose lease has run out. Each candidate is taken by
// inserting its next claim key (see the package comment); candidates whose
// key another worker inserted first are skipped.
func (q *Queue) claim(ctx context.Context, max int) ([]*job, error) {
	now := q.o.Now()
	filter := bson.M{"$or": bson.A{
		bson.M{"state": statePending, "due": bson.M{"$lte": now}},
		bson.M{"state": stateLeased, "leaseUntil": bson.M{"$lt": now}},
	}}
	// A few spare candidates: other replicas may win some of them.
	cur, err := q.jobs.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "due", Value: 1}}).SetLimit(int64(2*max)))
	if err != nil {
		return nil, err
	}
	var cands []job
	if err := cur.All(ctx, &cands); err != nil {
		return nil, err
	}
	var mine []*job
	q.mu.Lock()
	for i := range cands {
		if len(mine) == max {
			break
		}
		if c := &cands[i]; !q.claiming[c.ID] {
			q.claiming[c.ID] = true
			mine = append(mine, c)
		}
	}
	q.mu.Unlock()
	if len(mine) == 0 {
		return nil, nil
	}
	if ctx.Err() != nil { // shutting down: claim nothing new
		for _, j := range mine {
			q.release(j.ID)
		}
		return nil, ctx.Err()
	}
	// From the first key insert on, the claim runs to completion whatever
	// happens to ctx (Run's, cancelled on a graceful shutdown): a key
	// inserted but not followed by its job update would leave the job
	// reading the generation whose key is taken, unclaimable by anyone
	// until the keys are pruned (claimRetention). Each step gets its own
	// timeout so that a failed one still leaves time to undo it.
	bg := context.WithoutCancel(ctx)
	tok := randomID(8) // marks this call's keys, so an undo deletes only those
	actx, cancel := context.WithTimeout(bg, claimStepTimeout)
	won, err := q.advanceMany(actx, mine, tok)
	cancel()
	if err != nil {
		// The insert may have taken effect on the server all the same
		// (an unordered InsertMany that timed out): take back any key
		// this call inserted. No job was updated, so each still reads
		// the generation of its key.
		keys := make([]string, len(mine))
		for i, j := range mine {
			keys[i] = claimKey(j.Nonce, j.Gen)
			q.release(j.ID)
		}
		q.unclaim(bg, keys, tok)
		return nil, err
	}
	var got []*job
	var firstErr error
	leaseUntil := now.Add(q.o.Lease)
	for i, j := range mine {
		if !won[i] {
			q.release(j.ID)
			continue
		}
		j.State, j.Owner, j.LeaseUntil = stateLeased, q.o.Owner, leaseUntil
		j.Attempts++
		// One UpdateOne by _id per job: the embedded store serves _id
		// equality from its primary key, while an UpdateMany with $in scans
		// (measured: ~5 ms against 100-200 ms at 500 jobs). Plain $set is
		// safe although the store applies it as read-then-write: we hold
		// the claim key, so nobody else writes this document meanwhile.
		uctx, cancel := context.WithTimeout(bg, claimStepTimeout)
		if q.beforeClaimUpdate != nil {
			uctx = q.beforeClaimUpdate(uctx, j)
		}
		res, err := q.jobs.UpdateOne(uctx, bson.M{"_id": j.ID}, bson.M{"$set": bson.M{
			"state": j.State, "owner": j.Owner, "leaseUntil": leaseUntil, "gen": j.Gen, "attempts": j.Attempts,
		}})
		cancel()
		if err != nil || res.MatchedCount == 0 {
			// Gone (deleted by a repeated Enqueue), or the store failed.
			q.release(j.ID)
			if err != nil {
				// Give the key back, or nobody could take this generation
				// until claimRetention. Safe whether or not the update
				// took effect: the job reads generation Gen-1 (claimable
				// again at once) or Gen, leased to us (claimable with the
				// next key once the lease ends; we never attempt it).
				q.unclaim(bg, []string{claimKey(j.Nonce, j.Gen-1)}, tok)
				firstErr = cmp.Or(firstErr, err)
			}
			continue
		}
		got = append(got, j)
	}
	return got, firstErr
}

// claimStepTimeout bounds each store write of a claim, which runs detached
// from Run's context (see claim).
const claimStepTimeout = 10 * time.Second

// unclaim deletes claim keys that this claim call (tok) inserted, giving
// their jobs' generations back; keys inserted by anyone else are kept. If
// it fails, the jobs wait for the keys to be pruned (claimRetention).
func (q *Queue) unclaim(ctx context.Context, keys []string, tok string) {
	ctx, cancel := context.WithTimeout(ctx, claimStepTimeout)
	defer cancel()
	for _, k := range keys {
		if _, err := q.claims.DeleteOne(ctx, bson.M{"_id": k, "tok": tok}); err != nil {
			q.log.Warn("delivery: give back claim key; job blocked until the key is pruned", "err", err, "key", k)
		}
	}
}

func claimKey(nonce string, gen int) string { return nonce + "." + strconv.Itoa(gen) }

// advanceMany is advance for a batch, in one round trip. tok, if not
// empty, is stored in the keys so that the caller can take back exactly the
// keys it inserted (see unclaim).
func (q *Queue) advanceMany(ctx context.Context, js []*job, tok string) ([]bool, error) {
	docs := make([]any, len(js))
	at := time.Now()
	for i, j := range js {
		d := bson.M{"_id": claimKey(j.Nonce, j.Gen), "owner": q.o.Owner, "at": at}
		if tok != "" {
			d["tok"] = tok
		}
		docs[i] = d
	}
	won, err := insertUnique(ctx, q.claims, docs)
	if err != nil {
		return make([]bool, len(js)), err
	}
	for i, j := range js {
		if won[i] {
			j.Gen++
		}
	}
	return won, nil
}

// advance inserts the claim key for j's next state change. true means this
// worker owns the change and j.Gen has moved on; false means another worker
// got there first (for a holder: its lease was taken over).
func (q *Queue) advance(ctx context.Context, j *job) (bool, error) {
	_, err := q.claims.InsertOne(ctx, bson.M{"_id": claimKey(j.Nonce, j.Gen), "owner": q.o.Owner, "at": time.Now()})
	if store.IsDuplicate(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	j.Gen++
	return true, nil
}

func (q *Queue) release(id string) {
	q.mu.Lock()
	delete(q.claiming, id)
	q.mu.Unlock()
}

// outcome classifies one attempt.
type outcome int

const (
	outDone      outcome = iota // 2xx
	outPermanent                // 4xx other than 401/408/429: do not retry
	outRetry                    // 401/408/429/5xx/3xx/network/signing error
)

// classify follows Mastodon: success is 2xx; 4xx other than 401, 408 and 429
// cannot be salvaged by retrying.
func classify(status int) outcome {
	switch {
	case status >= 200 && status < 300:
		return outDone
	case status >= 400 && status < 500 && status != 401 && status != 408 && status != 429:
		return outPermanent
	default:
		return outRetry
	}
}

// process runs one claimed job to a recorded outcome. The attempt and the
// bookkeeping deliberately outlive ctx: Run's cancellation means "stop
// claiming", and an in-flight delivery is drained rather than abandoned.
func (q *Queue) process(ctx context.Context, j *job) {
	recorded := false // true once the recorder owns the job's last step
	defer func() {
		if !recorded {
			q.done(j)
		}
	}()
	bg := context.WithoutCancel(ctx)
	if q.hostUnavailable(j.Host) {
		dctx, cancel := context.WithTimeout(bg, 30*time.Second)
		defer cancel()
		j.Reason = "skipped"
		recorded = q.finish(dctx, j)
		q.log.Debug("delivery: host unavailable, skipped", "inbox", j.Inbox, "activity", j.Activity)
		return
	}
	dctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	if err := q.loadBody(dctx, j); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			q.log.Warn("delivery: body gone, dropping job", "inbox", j.Inbox, "activity", j.Activity)
			recorded = true
			q.markDead(dctx, j, ReasonNoBody)
			q.done(j)
			return
		}
		q.log.Warn("delivery: load body", "err", err, "activity", j.Activity)
		return // lease runs out, the job is tried again
	}
	// runJob checked the lease, but loading the body may have taken long
	// on a slow store: an attempt that could outlast the lease might
	// overlap with another replica's after it re-claims the job. Leave it.
	if !q.leaseCovers(j) {
		q.log.Debug("delivery: lease too short after loading body, leaving job", "inbox", j.Inbox, "activity", j.Activity)
		return
	}
	status, err := q.post(bg, j)
	out := outRetry
	if err == nil {
		out = classify(status)
	}
	switch out {
	case outDone:
		q.hostSuccess(dctx, j.Host)
		recorded = q.finish(dctx, j)
	case outPermanent:
		q.log.Warn("delivery: rejected, not retrying", "inbox", j.Inbox, "activity", j.Activity, "status", status)
		j.LastStatus, j.LastError = status, http.StatusText(status)
		if q.markDead(dctx, j, ReasonRejected) {
			// The host answered: it is alive, whatever it thought of us.
			q.hostSuccess(dctx, j.Host)
		}
	case outRetry:
		msg := ""
		if err != nil {
			msg = err.Error()
		} else {
			msg = fmt.Sprintf("HTTP %d", status)
		}
		j.LastStatus, j.LastError = status, msg
		if j.Attempts >= q.o.MaxAttempts {
			q.log.Warn("delivery: giving up after retries", "inbox", j.Inbox, "activity", j.Activity, "attempts", j.Attempts, "err", msg)
			if q.markDead(dctx, j, ReasonExhausted) {
				q.hostExhausted(dctx, j.Host)
			}
			return
		}
		q.reschedule(dctx, j, msg)
		q.hostFailure(dctx, j.Host)
	}
}

// finish takes the last step of a job this worker still holds (delivered or
// skipped) and hands it to the recorder for deletion. false means the lease
// was lost (or the store failed): the job then stays and is claimed again
// after its lease (at-least-once).
func (q *Queue) finish(ctx context.Context, j *job) bool {
	won, err := q.advance(ctx, j)
	if err != nil {
		q.log.Warn("delivery: record outcome", "err", err, "inbox", j.Inbox)
		return false
	}
	if won && q.finished != nil {
		q.finished <- j
		return true
	}
	if won { // not running (tests drive process directly): delete now
		q.deleteBatch(ctx, []*job{j})
		return true
	}
	return false
}

// recorder deletes finished jobs in batches until Run closes q.finished.
func (q *Queue) recorder() {
	var batch []*job
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	flush := func() {
		if len(batch) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			q.deleteBatch(ctx, batch)
			cancel()
			batch = nil
		}
	}
	for {
		select {
		case j, ok := <-q.finished:
			if !ok {
				flush()
				return
			}
			batch = append(batch, j)
			if len(batch) >= 100 {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

// deleteBatch deletes finished jobs (their final claim keys are inserted)
// in one DeleteMany, then counts them.
func (q *Queue) deleteBatch(ctx context.Context, batch []*job) {
	for _, j := range batch {
		// By _id, one at a time: served from the primary key, where a
		// DeleteMany with $in would scan the collection.
		if _, err := q.jobs.DeleteOne(ctx, bson.M{"_id": j.ID}); err != nil {
			// The key is taken, so no one re-sends it; after claimRetention
			// it becomes claimable again and is re-sent (at-least-once).
			q.log.Warn("delivery: delete finished job", "err", err, "inbox", j.Inbox)
		}
	}
	var d, s int64
	for _, j := range batch {
		if j.Reason == "skipped" {
			s++
		} else {
			d++
		}
	}
	q.mu.Lock()
	q.delivered += d
	q.skipped += s
	q.mu.Unlock()
	for _, j := range batch {
		q.done(j)
	}
}

// done marks the end of this replica's work on j.
func (q *Queue) done(j *job) {
	q.release(j.ID)
	if q.afterProcess != nil {
		q.afterProcess(j)
	}
}

// reschedule puts a job this worker still holds back to pending.
func (q *Queue) reschedule(ctx context.Context, j *job, msg string) {
	won, err := q.advance(ctx, j)
	if err == nil && won {
		due := q.o.Now().Add(q.o.Backoff(j.Attempts))
		_, err = q.jobs.UpdateOne(ctx, bson.M{"_id": j.ID, "nonce": j.Nonce}, bson.M{
			"$set":   bson.M{"state": statePending, "due": due, "gen": j.Gen, "lastStatus": j.LastStatus, "lastError": msg},
			"$unset": bson.M{"owner": "", "leaseUntil": ""},
		})
		q.log.Debug("delivery: will retry", "inbox", j.Inbox, "attempt", j.Attempts, "due", due, "err", msg)
	}
	if err != nil {
		q.log.Warn("delivery: reschedule", "err", err, "inbox", j.Inbox)
	}
}

// loadBody fills j.Body from the cache or delivery_bodies (one small read
// per activity per replica, not per job).
func (q *Queue) loadBody(ctx context.Context, j *job) error {
	q.mu.Lock()
	b, ok := q.bodyCache[j.Activity]
	q.mu.Unlock()
	if ok {
		j.Body = b
		return nil
	}
	var d struct {
		Body []byte `bson:"body"`
	}
	if err := q.bodies.FindOne(ctx, bson.M{"_id": j.Activity}).Decode(&d); err != nil {
		return store.NotFound(err)
	}
	q.mu.Lock()
	if len(q.bodyCache) >= bodyCacheSize {
		for k := range q.bodyCache { // evict an arbitrary entry
			delete(q.bodyCache, k)
			break
		}
	}
	q.bodyCache[j.Activity] = d.Body
	q.mu.Unlock()
	j.Body = d.Body
	return nil
}

// post sends one signed attempt and returns the HTTP status.
func (q *Queue) post(ctx context.Context, j *job) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, q.o.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Inbox, bytes.NewReader(j.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("User-Agent", q.o.UserAgent)
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if err := q.sign(req, j.Body); err != nil {
		return 0, fmt.Errorf("sign: %w", err)
	}
	resp, err := q.o.Client.Do(req)
	if err != nil {
		return 0, err
	}
	// Drain a little so the connection can be reused; inbox answers are tiny.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// markDead takes the job out of the live collection into delivery_dead. It
// reports false when this worker no longer holds the lease (another replica
// took over), in which case nothing is written. Without transactions it goes
// in three idempotent steps; sweep completes any that a crash interrupted.
func (q *Queue) markDead(ctx context.Context, j *job, reason string) bool {
	won, err := q.advance(ctx, j)
	if err != nil {
		q.log.Warn("delivery: mark dead", "err", err, "inbox", j.Inbox)
		return false
	}
	if !won {
		return false
	}
	now := q.o.Now()
	if _, err := q.jobs.UpdateOne(ctx, bson.M{"_id": j.ID, "nonce": j.Nonce}, bson.M{"$set": bson.M{
		"state": stateDead, "gen": j.Gen, "reason": reason, "deadAt": now, "lastStatus": j.LastStatus, "lastError": j.LastError,
	}}); err != nil {
		q.log.Warn("delivery: mark dead", "err", err, "inbox", j.Inbox)
		return true
	}
	j.State, j.Reason, j.DeadAt = stateDead, reason, now
	if err := q.moveDead(ctx, j); err != nil {
		q.log.Warn("delivery: move dead job", "err", err, "inbox", j.Inbox)
	}
	return true
}

func (q *Queue) moveDead(ctx context.Context, j *job) error {
	if _, err := q.dead.ReplaceOne(ctx, bson.M{"_id": j.ID}, j, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	_, err := q.jobs.DeleteOne(ctx, bson.M{"_id": j.ID, "state": stateDead})
	return err
}

// Stats counts jobs across all replicas. Each count scans delivery_jobs on
// the embedded store, so call it for dashboards, not per request.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	var err error
	if s.Pending, err = q.jobs.CountDocuments(ctx, bson.M{"state": statePending}); err != nil {
		return s, err
	}
	if s.Leased, err = q.jobs.CountDocuments(ctx, bson.M{"state": stateLeased}); err != nil {
		return s, err
	}
	if s.Dead, err = q.dead.CountDocuments(ctx, bson.M{}); err != nil {
		return s, err
	}
	byHost, err := q.loadDays(ctx, bson.M{})
	if err != nil {
		return s, err
	}
	for _, days := range byHost {
		if len(days) >= q.o.DeadHostDays {
			s.HostsUnavailable++
		}
	}
	// One counter document per replica: updates are not atomic on the
	// embedded store, so replicas must never $inc the same document.
	cur, err := q.stats.Find(ctx, bson.M{})
	if err != nil {
		return s, err
	}
	var tots []struct {
		Delivered int64 `bson:"delivered"`
		Skipped   int64 `bson:"skipped"`
	}
	if err := cur.All(ctx, &tots); err != nil {
		return s, err
	}
	q.mu.Lock()
	s.Delivered, s.Skipped = q.delivered, q.skipped
	q.mu.Unlock()
	for _, t := range tots {
		s.Delivered += t.Delivered
		s.Skipped += t.Skipped
	}
	return s, nil
}

// flushCounters adds this replica's unflushed totals to its own document in
// delivery_stats. One
// $inc every few seconds instead of one per delivery; a crash loses at most
// those few seconds of counts, never a job.
func (q *Queue) flushCounters(ctx context.Context) {
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	q.mu.Lock()
	d, s := q.delivered, q.skipped
	q.mu.Unlock()
	if d == 0 && s == 0 {
		return
	}
	_, err := q.stats.UpdateOne(ctx, bson.M{"_id": q.o.Owner},
		bson.M{"$inc": bson.M{"delivered": d, "skipped": s}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		if ctx.Err() == nil {
			q.log.Warn("delivery: flush counters", "err", err)
		}
		return
	}
	q.mu.Lock()
	q.delivered -= d
	q.skipped -= s
	q.mu.Unlock()
}

// HostStatus reads the host's state from the store (authoritative across
// replicas) merged with this replica's unsaved last success.
func (q *Queue) HostStatus(ctx context.Context, host string) (HostStatus, error) {
	host = normalizeHost(host)
	var d hostDoc
	err := q.hosts.FindOne(ctx, bson.M{"_id": host}).Decode(&d)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return HostStatus{}, err
	}
	d.Host = host
	byHost, err := q.loadDays(ctx, bson.M{"host": host})
	if err != nil {
		return HostStatus{}, err
	}
	d.setDays(byHost[host], q.o.DeadHostDays)
	q.mu.Lock()
	if e := q.hostCache[host]; e != nil && e.doc.LastSuccess.After(d.LastSuccess) {
		d.LastSuccess = e.doc.LastSuccess
	}
	q.mu.Unlock()
	return HostStatus{
		Host: host, LastSuccess: d.LastSuccess, LastFailure: d.LastFailure,
		FailureDays: d.FailureDays, Unavailable: d.Unavailable, UnavailableSince: d.UnavailableSince,
	}, nil
}

// MarkAlive records that host is reachable (for instance, an inbound
// activity arrived from it): its failure days and unavailable mark are
// cleared. It costs no write when the host is already known to be healthy,
// so the inbox may call it on every request.
func (q *Queue) MarkAlive(ctx context.Context, host string) error {
	host = normalizeHost(host)
	q.mu.Lock()
	e := q.hostCache[host]
	healthy := e == nil || e.doc.clean()
	q.mu.Unlock()
	if healthy {
		return nil
	}
	return q.clearHost(ctx, host, time.Time{})
}

// clearHost removes the host's failure record; with a non-zero at it also
// stores lastSuccess. Deleting the failure days cannot be undone by a
// concurrent writer (a failure day recorded meanwhile survives, as it
// should: it is one day, not a resurrected record).
func (q *Queue) clearHost(ctx context.Context, host string, at time.Time) error {
	if _, err := q.days.DeleteMany(ctx, bson.M{"host": host}); err != nil {
		return fmt.Errorf("delivery: clear host %s: %w", host, err)
	}
	if !at.IsZero() {
		// Informational (HostStatus); a concurrent lastFailure write may
		// overwrite it on the embedded store, harmlessly.
		if _, err := q.hosts.UpdateOne(ctx, bson.M{"_id": host}, bson.M{"$set": bson.M{"lastSuccess": at}},
			options.UpdateOne().SetUpsert(true)); err != nil {
			return fmt.Errorf("delivery: clear host %s: %w", host, err)
		}
	}
	q.mu.Lock()
	q.clears++
	e := q.entry(host)
	e.doc.Unavailable, e.doc.FailureDays, e.doc.UnavailableSince = false, nil, time.Time{}
	if !at.IsZero() {
		e.doc.LastSuccess = at
		e.successSaved = time.Now()
	}
	q.mu.Unlock()
	return nil
}

// entry returns the cache entry for host, creating it; q.mu must be held.
func (q *Queue) entry(host string) *hostEntry {
	e := q.hostCache[host]
	if e == nil {
		e = &hostEntry{doc: hostDoc{Host: host}}
		q.hostCache[host] = e
	}
	return e
}

func (q *Queue) hostUnavailable(host string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	e := q.hostCache[host]
	return e != nil && e.doc.Unavailable
}

// hostSuccess clears the host's failure record. A healthy host's lastSuccess
// is written at most once a minute per replica: a fan-out to one busy shared
// inbox should not double the store writes.
func (q *Queue) hostSuccess(ctx context.Context, host string) {
	now := q.o.Now()
	q.mu.Lock()
	e := q.entry(host)
	needWrite := !e.doc.clean() || time.Since(e.successSaved) > time.Minute
	if !needWrite {
		e.doc.LastSuccess = now
	}
	q.mu.Unlock()
	if !needWrite {
		return
	}
	if err := q.clearHost(ctx, host, now); err != nil {
		q.log.Warn("delivery: record host success", "err", err)
	}
}

// hostFailure records a failed (retryable) attempt.
func (q *Queue) hostFailure(ctx context.Context, host string) {
	now := q.o.Now()
	_, err := q.hosts.UpdateOne(ctx, bson.M{"_id": host}, bson.M{"$set": bson.M{"lastFailure": now}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		q.log.Warn("delivery: record host failure", "err", err)
		return
	}
	q.mu.Lock()
	q.entry(host).doc.LastFailure = now
	q.mu.Unlock()
}

// hostExhausted records today's date as a failure day (Mastodon's
// DeliveryFailureTracker); the host is unavailable once it has DeadHostDays
// of them. The day is a unique insert, so concurrent replicas agree and a
// concurrent success (which deletes the days) is never undone.
func (q *Queue) hostExhausted(ctx context.Context, host string) {
	now := q.o.Now()
	day := now.UTC().Format(time.DateOnly)
	_, err := q.days.InsertOne(ctx, dayDoc{ID: host + "|" + day, Host: host, Day: day, At: now})
	if err != nil && !store.IsDuplicate(err) {
		q.log.Warn("delivery: record failure day", "err", err, "host", host)
		return
	}
	q.hostFailure(ctx, host)
	q.mu.Lock()
	clears := q.clears
	q.mu.Unlock()
	byHost, err := q.loadDays(ctx, bson.M{"host": host})
	if err != nil {
		q.log.Warn("delivery: load failure days", "err", err, "host", host)
		return
	}
	q.mu.Lock()
	if q.clears != clears {
		// A success here cleared the host while the days were read: they
		// may predate it. The next refresh reads them again.
		q.mu.Unlock()
		return
	}
	e := q.entry(host)
	was := e.doc.Unavailable
	e.doc.setDays(byHost[host], q.o.DeadHostDays)
	unavailable := e.doc.Unavailable
	q.mu.Unlock()
	if unavailable && !was {
		q.log.Warn("delivery: host marked unavailable", "host", host, "failureDays", len(byHost[host]))
	}
}

// loadDays reads failure days matching filter, by host.
func (q *Queue) loadDays(ctx context.Context, filter bson.M) (map[string][]dayDoc, error) {
	cur, err := q.days.Find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("delivery: load failure days: %w", err)
	}
	var days []dayDoc
	if err := cur.All(ctx, &days); err != nil {
		return nil, fmt.Errorf("delivery: load failure days: %w", err)
	}
	byHost := map[string][]dayDoc{}
	for _, d := range days {
		byHost[d.Host] = append(byHost[d.Host], d)
	}
	return byHost, nil
}

// refreshHosts reloads the host table (scans of two small collections) so
// this replica sees marks and clears made by others.
func (q *Queue) refreshHosts(ctx context.Context) error {
	cur, err := q.hosts.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("delivery: load hosts: %w", err)
	}
	var docs []hostDoc
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("delivery: load hosts: %w", err)
	}
	q.mu.Lock()
	clears := q.clears
	q.mu.Unlock()
	byHost, err := q.loadDays(ctx, bson.M{})
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.clears != clears {
		// A success here cleared a host while the days were read: they
		// may predate it; keep the cached days until the next refresh.
		byHost = nil
	}
	for _, d := range docs {
		e := q.entry(d.Host)
		// Keep a newer in-memory lastSuccess that was not written yet.
		if e.doc.LastSuccess.After(d.LastSuccess) {
			d.LastSuccess = e.doc.LastSuccess
		}
		d.FailureDays, d.Unavailable, d.UnavailableSince = e.doc.FailureDays, e.doc.Unavailable, e.doc.UnavailableSince
		e.doc = d
	}
	if byHost == nil {
		return nil
	}
	for host := range byHost {
		q.entry(host)
	}
	for host, e := range q.hostCache {
		e.doc.setDays(byHost[host], q.o.DeadHostDays)
	}
	return nil
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
