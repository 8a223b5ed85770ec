package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// HostStatus is the failure tracker's view of one host.
type HostStatus struct {
	Host             string
	LastSuccess      time.Time // zero if never
	LastFailure      time.Time // zero if never
	FailureDays      []string  // UTC dates (2006-01-02) with exhausted deliveries since the last success
	Unavailable      bool
	UnavailableSince time.Time
}

// hostEntry is the cached host document plus when this replica last wrote
// lastSuccess, so that a steady stream of successes costs no writes.
type hostEntry struct {
	doc          hostDoc
	successSaved time.Time // real time of the last lastSuccess write
	savedSuccess time.Time // the lastSuccess it wrote
}

// hostDoc is a delivery_hosts document: a host's last success and failure.
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

// normalizeHost maps a host name as callers pass it (from an actor IRI, with
// a port if non-default) to the key used in delivery_hosts.
func normalizeHost(h string) string { return strings.ToLower(strings.TrimSpace(h)) }

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
		e.successSaved, e.savedSuccess = time.Now(), at
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

// hostUnavailable reports whether this replica knows host as unavailable.
func (q *Queue) hostUnavailable(host string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	e := q.hostCache[host]
	return e != nil && e.doc.Unavailable
}

// hostSuccess clears the host's failure record. A healthy host's success
// is only noted in memory: its lastSuccess (informational, HostStatus) is
// written later by housekeeping (flushSuccesses), so that a fan-out to 500
// hosts does not add 500 writes to the deliveries themselves.
func (q *Queue) hostSuccess(ctx context.Context, host string) {
	now := q.o.Now()
	q.mu.Lock()
	e := q.entry(host)
	clean := e.doc.clean()
	if clean {
		e.doc.LastSuccess = now
	}
	q.mu.Unlock()
	if clean {
		return
	}
	if err := q.clearHost(ctx, host, now); err != nil {
		q.log.Warn("delivery: record host success", "err", err)
	}
}

// successFlushes bounds the lastSuccess writes of one housekeeping round,
// and successEvery how often one host's is written.
const (
	successFlushes = 50
	successEvery   = 10 * time.Minute
)

// flushSuccesses writes the lastSuccess of a few hosts whose stored one is
// older than successEvery, the longest-unsaved first.
func (q *Queue) flushSuccesses(ctx context.Context, all bool) {
	type due struct {
		host  string
		at    time.Time
		saved time.Time
	}
	var todo []due
	q.mu.Lock()
	for h, e := range q.hostCache {
		if !e.doc.LastSuccess.IsZero() && e.doc.LastSuccess.After(e.savedSuccess) && (all || time.Since(e.successSaved) > successEvery) {
			todo = append(todo, due{h, e.doc.LastSuccess, e.successSaved})
		}
	}
	q.mu.Unlock()
	slices.SortFunc(todo, func(a, b due) int { return a.saved.Compare(b.saved) })
	if !all && len(todo) > successFlushes {
		todo = todo[:successFlushes]
	}
	for _, d := range todo {
		if _, err := q.hosts.UpdateOne(ctx, bson.M{"_id": d.host}, bson.M{"$set": bson.M{"lastSuccess": d.at}},
			options.UpdateOne().SetUpsert(true)); err != nil {
			if ctx.Err() == nil {
				q.log.Warn("delivery: record host success", "err", err, "host", d.host)
			}
			return
		}
		q.mu.Lock()
		e := q.entry(d.host)
		e.successSaved, e.savedSuccess = time.Now(), d.at
		q.mu.Unlock()
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
