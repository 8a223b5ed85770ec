package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// bodyCacheSize bounds the in-memory body cache (activities, ~2 KB each).
const bodyCacheSize = 256

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

// poke wakes the idle dispatcher without blocking.
func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run starts the workers and returns when ctx is cancelled and every
// in-flight delivery has finished and been recorded (graceful drain). Call
// it once per Queue; run more replicas as more Queues (processes).
//
// One dispatcher claims jobs in batches (one scan of delivery_jobs per batch
// rather than per job, design §3) and hands them to Workers goroutines; a
// finished jobs are recorded in batches for the same reason.
func (q *Queue) Run(ctx context.Context) error {
	q.sweep(ctx)
	work := make(chan *job, q.o.Workers)
	q.running.Store(true)
	defer q.running.Store(false)
	stopRecorder := make(chan struct{})
	var workers, rest sync.WaitGroup
	for range q.o.Workers {
		workers.Go(func() {
			for j := range work {
				q.runJob(ctx, j)
			}
		})
	}
	rest.Go(func() { q.recorder(stopRecorder) })
	rest.Go(func() { q.housekeeping(ctx) })
	q.dispatch(ctx, work)
	close(work)
	workers.Wait() // drain: claimed jobs are attempted, not abandoned
	close(stopRecorder)
	rest.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	q.flushCounters(fctx)
	q.flushSuccesses(fctx, true)
	q.purgeFinished(fctx)
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
		wait := q.o.PollInterval
		// Claim in batches: while the buffer still holds jobs for the
		// workers, wait until half of the room is free, so that one claim
		// (one write, through the store's one writer) serves many jobs
		// rather than one write per freed worker.
		if room > 0 && (len(work) == 0 || 2*room >= cap(work)+q.o.Workers) {
			var err error
			jobs, err = q.claim(ctx, room)
			switch {
			case err == nil:
				q.outage.OK()
			case ctx.Err() != nil:
			case q.outage.Failed(err):
				// The store is away: try again in a few seconds, quietly
				// (logged once), and pick up where we were when it returns.
				wait = max(wait, q.outage.Wait())
			default:
				q.log.Warn("delivery: claim", "err", err)
			}
		}
		for _, j := range jobs {
			work <- j // there is room: never blocks for long
		}
		if len(jobs) > 0 && len(jobs) == room {
			continue // probably more due
		}
		if next := q.idx.next(); !next.IsZero() {
			// The index knows when the next job is due: wake then.
			wait = min(wait, max(next.Sub(q.o.Now()), time.Millisecond))
		}
		idle.Reset(wait)
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
		q.putBack(j, j.LeaseUntil)
		return
	}
	q.process(ctx, j)
}

// leaseCovers reports whether a whole attempt started now ends within j's
// lease.
func (q *Queue) leaseCovers(j *job) bool {
	return !q.o.Now().Add(q.o.AttemptTimeout).After(j.LeaseUntil)
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
		if !q.outage.Failed(err) {
			q.log.Warn("delivery: load body", "err", err, "activity", j.Activity)
		}
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
	q.cacheBody(j.Activity, d.Body)
	j.Body = d.Body
	return nil
}

// cacheBody keeps an activity's body for loadBody. Enqueue calls it too:
// the replica that publishes has the body at hand, and its workers, which
// all start on the same activity at once, need not each read it back.
func (q *Queue) cacheBody(activity string, body []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.bodyCache[activity]; !ok && len(q.bodyCache) >= bodyCacheSize {
		for k := range q.bodyCache { // evict an arbitrary entry
			delete(q.bodyCache, k)
			break
		}
	}
	q.bodyCache[activity] = body
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
