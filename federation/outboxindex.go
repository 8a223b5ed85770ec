package federation

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The outbox in memory (issue 11). Outbox pages used to count and sort the
// outbox collection per request, which the embedded store answers by
// reading every activity ever published. Memory now holds only the ordered
// entry ids, 16 bytes each and free of pointers (the garbage collector
// never scans them): a million activities take 16 MB. A page reads its 20
// bodies by _id, the one read every store answers at the same cost
// whatever the collection's size. Entries are never changed or removed
// (a Delete or an Update is a new activity), so the ids are all there is
// to keep current.

// outboxKey is an outbox entry's _id (NewID's 26 characters) decoded into
// its 16 bytes. Keys compare as the _ids do, since NewID's alphabet is in
// ASCII order.
type outboxKey [16]byte

// parseOutboxKey decodes an _id that NewID made; anything else is refused,
// so that String gives back exactly the _id.
func parseOutboxKey(id string) (outboxKey, bool) {
	var k outboxKey
	if len(id) != 26 {
		return k, false
	}
	n, err := idEncoding.Decode(k[:], []byte(id))
	if err != nil || n != len(k) || k.String() != id {
		return outboxKey{}, false
	}
	return k, true
}

func (k outboxKey) String() string { return idEncoding.EncodeToString(k[:]) }

// compareCursor compares k with a client's cursor (an _id, or anything,
// such as Mastodon's min_id=0) as strings compare.
func (k outboxKey) compareCursor(cursor string) int {
	if c, ok := parseOutboxKey(cursor); ok {
		return bytes.Compare(k[:], c[:])
	}
	s := k.String()
	switch {
	case s < cursor:
		return -1
	case s > cursor:
		return 1
	}
	return 0
}

// outboxIndex is every outbox entry's key, oldest first.
type outboxIndex struct {
	mu   sync.RWMutex
	keys []outboxKey
}

// add puts keys in their place; keys already there are skipped (a
// replica's own entries come back through the marks, and a rebuild may
// overlap a refresh).
func (x *outboxIndex) add(keys ...outboxKey) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, k := range keys {
		// New entries are nearly always the newest: an append.
		if n := len(x.keys); n == 0 || bytes.Compare(x.keys[n-1][:], k[:]) < 0 {
			x.keys = append(x.keys, k)
			continue
		}
		i, found := slices.BinarySearchFunc(x.keys, k, func(a, b outboxKey) int { return bytes.Compare(a[:], b[:]) })
		if !found {
			x.keys = slices.Insert(x.keys, i, k)
		}
	}
}

func (x *outboxIndex) replace(keys []outboxKey) {
	slices.SortFunc(keys, func(a, b outboxKey) int { return bytes.Compare(a[:], b[:]) })
	keys = slices.Compact(keys)
	x.mu.Lock()
	x.keys = keys
	x.mu.Unlock()
}

func (x *outboxIndex) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.keys)
}

// outboxPage is one page of keys, newest first, with whether older
// entries follow it.
type outboxPage struct {
	keys  []outboxKey
	older bool
}

// below returns up to n keys older than cursor ("" for the newest).
func (x *outboxIndex) below(cursor string, n int) outboxPage {
	x.mu.RLock()
	defer x.mu.RUnlock()
	end := len(x.keys)
	if cursor != "" {
		end, _ = slices.BinarySearchFunc(x.keys, cursor, outboxKey.compareCursor)
	}
	start := max(0, end-n)
	page := outboxPage{keys: slices.Clone(x.keys[start:end]), older: start > 0}
	slices.Reverse(page.keys)
	return page
}

// above returns up to n keys newer than cursor, the oldest of them (the
// page just above the cursor), newest first.
func (x *outboxIndex) above(cursor string, n int) outboxPage {
	x.mu.RLock()
	defer x.mu.RUnlock()
	start, found := slices.BinarySearchFunc(x.keys, cursor, outboxKey.compareCursor)
	if found {
		start++
	}
	end := min(len(x.keys), start+n)
	page := outboxPage{keys: slices.Clone(x.keys[start:end]), older: start > 0}
	slices.Reverse(page.keys)
	return page
}

// outboxBodies keeps the activities of the latest pages read or published,
// so that the first page, the one followers' servers fetch, is answered
// from memory. Entries never change, so a kept body is never stale, on
// any replica.
type outboxBodies struct {
	mu    sync.Mutex
	byKey map[outboxKey][]byte
	order []outboxKey // oldest kept first; evicted from the front
}

// outboxBodiesKept is how many bodies are kept: a few pages (about 1 KB
// each for a node's activities).
const outboxBodiesKept = 8 * PageSize

func (c *outboxBodies) get(k outboxKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.byKey[k]
	return b, ok
}

func (c *outboxBodies) put(k outboxKey, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey = make(map[outboxKey][]byte, outboxBodiesKept)
	}
	if _, ok := c.byKey[k]; ok {
		return
	}
	if len(c.order) >= outboxBodiesKept {
		delete(c.byKey, c.order[0])
		c.order = c.order[1:]
	}
	c.byKey[k] = body
	c.order = append(c.order, k)
}

// Replicas. Several server processes may share one store; each learns the
// others' entries through outbox_marks: one document per process that
// published, written by that process alone (so no two writers race on a
// document, which FerretDB could not make atomic), holding how many
// entries it published and the ids of its latest ones. A process reads the
// marks every outboxRefresh and adds what is new to it; it reads the whole
// outbox again only when a process published more between two reads than
// its mark keeps, or when its own reads failed for long.

// outboxMarksCollection holds the marks.
const outboxMarksCollection = "outbox_marks"

const (
	// outboxMarkRecent is how many of its latest ids a mark keeps: more
	// than a node's import batch or a second of a busy hub's announces.
	outboxMarkRecent = 512
	// outboxMarkTTL is how long a mark stays after its process last
	// published (a process gets a new mark at every start). A process that
	// could not read the marks for half of it reads the whole outbox again.
	outboxMarkTTL = 24 * time.Hour
	// outboxRefresh is how often the marks are read: another replica's
	// entry reaches this one's outbox pages within about that long.
	outboxRefresh = time.Second
	// outboxMarkDelay is how long published waits before writing the mark,
	// so that a run of publishes (a start-up reconcile, an import) shares
	// one write; a crash in that moment leaves other replicas without those
	// entries until their next full read, as a crash between an entry's
	// insert and its mark always could.
	outboxMarkDelay = 50 * time.Millisecond
)

type outboxMarkDoc struct {
	ID     string    `bson:"_id"`
	Seq    int64     `bson:"seq"`    // entries the process published
	Recent []string  `bson:"recent"` // the ids of the latest of them, oldest first
	At     time.Time `bson:"at"`
}

// outboxMemory is the outbox's index, kept current with this process's
// writes and with the other processes' marks.
type outboxMemory struct {
	entries *mongo.Collection
	marks   *mongo.Collection
	now     func() time.Time
	index   outboxIndex
	bodies  outboxBodies
	// self is this process's mark's _id.
	self string

	// pending holds ids stored but not yet in this process's mark.
	pendingMu sync.Mutex
	pending   []string
	flushSoon bool // a flushMark is scheduled
	// writeMu serialises writes of the mark; mark is the last written.
	writeMu sync.Mutex
	mark    outboxMarkDoc

	// seen is each other process's count when last read; lastRead when the
	// marks were last read. Both belong to the refresh (one goroutine) and
	// rebuild.
	refreshMu sync.Mutex
	seen      map[string]int64
	lastRead  time.Time
}

// OutboxLoaded says what a rebuild of the outbox's memory read.
type OutboxLoaded struct {
	Entries int           // entries in memory
	Skipped int           // entries whose _id NewID did not make (not paged)
	Took    time.Duration // time to read them
}

func newOutboxMemory(db *mongo.Database, now func() time.Time) *outboxMemory {
	m := &outboxMemory{
		self: rand.Text(), entries: db.Collection("outbox"), marks: db.Collection(outboxMarksCollection), now: now,
	}
	m.mark.ID = m.self
	return m
}

// rebuild reads every entry's id: the marks first, so that whatever a
// process publishes after this read of them is in the outbox read next,
// or found by the next refresh (adding an id twice is harmless).
func (m *outboxMemory) rebuild(ctx context.Context) (OutboxLoaded, error) {
	start := time.Now()
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	marks, err := m.readMarks(ctx)
	if err != nil {
		return OutboxLoaded{}, err
	}
	cur, err := m.entries.Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return OutboxLoaded{}, fmt.Errorf("federation: load outbox: %w", err)
	}
	defer cur.Close(ctx)
	var loaded OutboxLoaded
	var keys []outboxKey
	for cur.Next(ctx) {
		id, _ := cur.Current.Lookup("_id").StringValueOK()
		k, ok := parseOutboxKey(id)
		if !ok {
			loaded.Skipped++
			continue
		}
		keys = append(keys, k)
	}
	if err := cur.Err(); err != nil {
		return OutboxLoaded{}, fmt.Errorf("federation: load outbox: %w", err)
	}
	m.index.replace(keys)
	m.seen = make(map[string]int64, len(marks))
	for _, d := range marks {
		m.seen[d.ID] = d.Seq
	}
	m.lastRead = time.Now()
	loaded.Entries, loaded.Took = m.index.len(), time.Since(start)
	return loaded, nil
}

// published takes in entries this process has just stored (ids and their
// activities): memory at once, the mark for the other processes within
// outboxMarkDelay (flushMark), or by the next refresh when that write
// fails; the entries are stored and in this process's pages meanwhile.
func (m *outboxMemory) published(ids []string, bodies [][]byte) {
	keys := make([]outboxKey, 0, len(ids))
	for i, id := range ids {
		if k, ok := parseOutboxKey(id); ok {
			keys = append(keys, k)
			m.bodies.put(k, slices.Clone(bodies[i])) // the caller may reuse its buffer
		}
	}
	m.index.add(keys...)
	m.pendingMu.Lock()
	m.pending = append(m.pending, ids...)
	if !m.flushSoon {
		// The mark is written a moment later, once for every publish of
		// that moment: one document replace per publish (a 512-id mark)
		// made a node's start-up reconcile of 4,600 objects 5× slower.
		m.flushSoon = true
		time.AfterFunc(outboxMarkDelay, m.flushMark)
	}
	m.pendingMu.Unlock()
}

// flushMark writes the mark scheduled by published; a failure is retried
// by the next refresh (the entries are stored and in this process's pages).
func (m *outboxMemory) flushMark() {
	m.pendingMu.Lock()
	m.flushSoon = false
	m.pendingMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = m.writeMark(ctx)
}

// writeMark writes the pending ids into this process's mark. Concurrent
// publishers queue here, and the first writes everyone's ids in one go.
func (m *outboxMemory) writeMark(ctx context.Context) error {
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	m.pendingMu.Lock()
	ids := m.pending
	m.pending = nil
	m.pendingMu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	next := m.mark
	next.Seq += int64(len(ids))
	next.Recent = append(slices.Clone(m.mark.Recent), ids...)
	next.Recent = next.Recent[max(0, len(next.Recent)-outboxMarkRecent):]
	next.At = m.now().UTC()
	if _, err := m.marks.ReplaceOne(ctx, bson.M{"_id": next.ID}, next, options.Replace().SetUpsert(true)); err != nil {
		m.pendingMu.Lock()
		m.pending = append(ids, m.pending...)
		m.pendingMu.Unlock()
		return fmt.Errorf("federation: outbox mark: %w", err)
	}
	m.mark = next
	return nil
}

// refresh writes this process's pending mark, then takes in what the other
// processes published since the last read.
func (m *outboxMemory) refresh(ctx context.Context) error {
	if err := m.writeMark(ctx); err != nil {
		return err
	}
	m.refreshMu.Lock()
	if time.Since(m.lastRead) > outboxMarkTTL/2 {
		// Marks this process never read may be gone by now.
		m.refreshMu.Unlock()
		_, err := m.rebuild(ctx)
		return err
	}
	marks, err := m.readMarks(ctx)
	if err != nil {
		m.refreshMu.Unlock()
		return err
	}
	missed := false
	var keys []outboxKey
	present := make(map[string]bool, len(marks))
	for _, d := range marks {
		present[d.ID] = true
		if d.ID == m.self {
			continue
		}
		n := d.Seq - m.seen[d.ID]
		if n <= 0 {
			continue
		}
		if n > int64(len(d.Recent)) {
			missed = true
			break
		}
		for _, id := range d.Recent[int64(len(d.Recent))-n:] {
			if k, ok := parseOutboxKey(id); ok {
				keys = append(keys, k)
			}
		}
		m.seen[d.ID] = d.Seq
	}
	if !missed {
		m.index.add(keys...)
		for id := range m.seen {
			if !present[id] {
				delete(m.seen, id)
			}
		}
		m.lastRead = time.Now()
	}
	m.refreshMu.Unlock()
	if missed {
		_, err := m.rebuild(ctx)
		return err
	}
	return m.pruneMarks(ctx, marks)
}

func (m *outboxMemory) readMarks(ctx context.Context) ([]outboxMarkDoc, error) {
	cur, err := m.marks.Find(ctx, bson.M{})
	if err != nil {
		return nil, fmt.Errorf("federation: outbox marks: %w", err)
	}
	var marks []outboxMarkDoc
	if err := cur.All(ctx, &marks); err != nil {
		return nil, fmt.Errorf("federation: outbox marks: %w", err)
	}
	return marks, nil
}

// pruneMarks removes the marks of processes that have not published for
// outboxMarkTTL (mostly processes long stopped), each by _id.
func (m *outboxMemory) pruneMarks(ctx context.Context, marks []outboxMarkDoc) error {
	cutoff := m.now().Add(-outboxMarkTTL)
	for _, d := range marks {
		if d.ID == m.self || !d.At.Before(cutoff) {
			continue
		}
		if _, err := m.marks.DeleteOne(ctx, bson.M{"_id": d.ID}); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("federation: outbox marks: %w", err)
		}
	}
	return nil
}
