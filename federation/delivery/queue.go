package delivery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
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

// ContentType is the media type of every delivery POST.
const ContentType = "application/activity+json"

// ErrInvalidInbox is wrapped by Enqueue's error for inbox IRIs it skipped.
var ErrInvalidInbox = errors.New("delivery: invalid inbox IRI")

// Signer signs an outgoing POST in place (the federation package passes
// httpsig.Sign bound to the actor's key).
type Signer func(req *http.Request, body []byte) error

// Queue is a durable delivery queue backed by the store.
type Queue struct {
	jobs, dead, hosts, stats, claims, seen, bodies *mongo.Collection
	days                                           *mongo.Collection
	sign                                           Signer
	o                                              Options
	log                                            *slog.Logger
	wake                                           chan struct{}
	// outage quiets and paces the dispatcher while the store is away.
	outage store.Outage

	mu        sync.Mutex
	hostCache map[string]*hostEntry
	clears    int             // clearHost calls so far: failure days read before one are stale
	claiming  map[string]bool // jobs this replica is claiming or holds: not claimed twice locally
	idx       *readyIndex     // live jobs known here, by when claimable (index.go)
	lastScan  time.Time       // Options.Now of the last rescan
	scanTook  time.Duration   // how long it took
	inFlight  atomic.Int64
	bodyCache map[string][]byte // activity id → body, bounded by bodyCacheSize
	freed     chan struct{}     // a worker became free: the dispatcher may claim more
	running   atomic.Bool       // Run is running: finish buffers outcomes (doneBuf)
	doneBuf   []*job            // delivered or skipped jobs waiting for their "done" keys
	recordNow chan struct{}     // doneBuf is full: the recorder records it at once
	// Finished jobs whose documents are still stored, id → nonce, for the
	// next purge (purge.go), and its pacing.
	finishedStored map[string]string
	finishedSince  time.Time // when the oldest of them was remembered
	lastFinished   time.Time // when the newest was
	lastPurge      time.Time
	purgeTook      time.Duration
	delivered      int64 // not yet flushed to delivery_stats
	skipped        int64
	flushMu        sync.Mutex // serialises counter flushes
	lastPruned     time.Time

	// afterProcess, if set (tests only), runs when a claimed job's outcome
	// including host bookkeeping has been fully recorded.
	afterProcess func(*job)
}

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
	o := opts.withDefaults()
	q := &Queue{
		jobs:           db.Collection(JobsCollection),
		dead:           db.Collection(DeadCollection),
		hosts:          db.Collection(HostsCollection),
		days:           db.Collection(DaysCollection),
		stats:          db.Collection(StatsCollection),
		claims:         db.Collection(ClaimsCollection),
		seen:           db.Collection(SeenCollection),
		bodies:         db.Collection(BodiesCollection),
		bodyCache:      map[string][]byte{},
		finishedStored: map[string]string{},
		claiming:       map[string]bool{},
		idx:            newReadyIndex(),
		sign:           sign,
		o:              o,
		log:            o.Logger.With("component", "delivery", "owner", o.Owner),
		wake:           make(chan struct{}, 1),
		freed:          make(chan struct{}, 1),
		hostCache:      map[string]*hostEntry{},
	}
	q.outage = store.Outage{What: "delivery", Log: q.log}
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
	if err := q.rescan(ctx); err != nil {
		return nil, err
	}
	return q, nil
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
	return q.EnqueueMany(ctx, []Activity{{ID: activityID, Body: body}}, inboxes)
}

// Activity is one activity to deliver: its id and the exact bytes to send.
type Activity struct {
	ID   string
	Body []byte
}

// EnqueueMany queues every activity to every inbox as Enqueue does, with
// one insert of the bodies, one of the jobs and one of their markers for
// the whole batch (chunked at insertChunk documents): an import publishing
// thousands of activities writes a few commands, not three per activity.
func (q *Queue) EnqueueMany(ctx context.Context, activities []Activity, inboxes []string) error {
	now := q.o.Now()
	var targets []normalized
	var bad []string
	seen := make(map[string]bool, len(inboxes))
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
		targets = append(targets, normalized{inbox, host})
	}
	var jobs []*job
	var bodies []any
	for _, a := range activities {
		if a.ID == "" {
			return errors.New("delivery: empty activity id")
		}
		if len(targets) == 0 {
			continue
		}
		bodies = append(bodies, bson.M{"_id": a.ID, "body": a.Body, "at": now})
		for _, t := range targets {
			jobs = append(jobs, &job{
				ID: JobID(a.ID, t.inbox), Activity: a.ID, Inbox: t.inbox, Host: t.host,
				State: statePending, Due: now.Add(enqueueHold), Created: now, Nonce: randomID(8),
			})
		}
	}
	if len(bodies) > 0 {
		// Bodies first: a crash before the jobs leaves only orphan bodies,
		// pruned later. A repeated Enqueue keeps the first body (a duplicate
		// is not an error).
		fresh, err := insertUnique(ctx, q.bodies, bodies)
		if err != nil {
			return fmt.Errorf("delivery: enqueue %d activities: %w", len(activities), err)
		}
		for i, b := range bodies {
			if fresh[i] { // a repeated Enqueue's body is not the one stored
				d := b.(bson.M)
				q.cacheBody(d["_id"].(string), slices.Clone(d["body"].([]byte)))
			}
		}
	}
	if err := q.insertJobs(ctx, jobs, now); err != nil {
		return fmt.Errorf("delivery: enqueue %d activities: %w", len(activities), err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %q", ErrInvalidInbox, bad)
	}
	return nil
}

// normalized is an inbox after normalizeInbox, with its host.
type normalized struct{ inbox, host string }

// enqueueHold is how long a new job stays invisible to workers while
// Enqueue checks it against delivery_seen: federation latency it adds.
const enqueueHold = 250 * time.Millisecond

// insertJobs stores new jobs and drops those enqueued and finished before
// (steps 1 and 2 of Enqueue).
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
		} else {
			// Claimable here at once: the check against delivery_seen that
			// the hold (j.Due) covers is done. Other replicas, which may
			// read the job before it (rescan), wait for the hold.
			q.idx.put(j, now)
		}
	}
	if len(again) > 0 {
		won, err := q.advanceMany(ctx, again, "", stepDrop, time.Time{}, 0)
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
			// it fails the jobs stay until a claim follows their "drop" key
			// and removes them (finishStray).
			if _, err := q.jobs.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}}); err != nil {
				return err
			}
		}
	}
	if len(again) < len(added) {
		q.poke()
	}
	return nil
}

// randomID is n random bytes in hex: owners, nonces and claim tokens.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
