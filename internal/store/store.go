// Package store opens the MongoDB connection that hub and node share: a real
// MongoDB when a URI is configured, otherwise an embedded FerretDB (SQLite
// backend) living in the data folder. Either way callers get the same
// mongo-driver v2 client, so there is one code path.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ErrNotFound is returned by store helpers when no document matches; driver
// errors never leave the store layer (callers test with errors.Is).
var ErrNotFound = errors.New("not found")

// Options configure Open.
type Options struct {
	// URI of a MongoDB deployment. Empty means: start the embedded store.
	URI string
	// DataDir holds the embedded store's SQLite files (ignored with a URI).
	DataDir string
	// Logger receives the embedded store's own logs (at Warn and above).
	Logger *slog.Logger
	// Timeout bounds every operation that has no deadline of its own.
	Timeout time.Duration
	// ServerSelectionTimeout is how long an operation waits for a reachable
	// store before it fails with an error that Unavailable recognises
	// (default DefaultServerSelectionTimeout): with the store gone, a
	// request answers 503 after this long instead of hanging for Timeout.
	ServerSelectionTimeout time.Duration
	// Observe, when set, sees every command this process sends to the
	// store as it starts (tests use it to check how each collection is
	// read: storetest.Watch). Nil costs nothing.
	Observe func(context.Context, *event.CommandStartedEvent)
}

// DefaultServerSelectionTimeout bounds the wait for a reachable store (the
// driver's own default is 30 s, longer than any client waits for a page).
const DefaultServerSelectionTimeout = 3 * time.Second

// openWait is how long Open keeps trying to reach the store at start, so a
// node started together with its MongoDB waits for it rather than failing.
const openWait = 20 * time.Second

// Store is an open connection, embedded or external.
type Store struct {
	Client   *mongo.Client
	Embedded bool

	dir          string // the embedded store's SQLite files
	stopEmbedded context.CancelFunc
	embeddedDone chan struct{}
}

// Open connects to MongoDB, or starts the embedded store in opts.DataDir and
// connects to it over loopback.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	s := &Store{}
	uri := opts.URI
	if uri == "" {
		var err error
		uri, err = s.startEmbedded(opts)
		if err != nil {
			return nil, err
		}
	}
	if opts.ServerSelectionTimeout == 0 {
		opts.ServerSelectionTimeout = DefaultServerSelectionTimeout
	}
	// The URI may override these (serverSelectionTimeoutMS=…): options
	// applied after ApplyURI win, so apply the URI last.
	co := options.Client().
		SetTimeout(opts.Timeout).
		SetServerSelectionTimeout(opts.ServerSelectionTimeout).
		SetConnectTimeout(5 * time.Second).
		// Notice a store that came back within a couple of seconds even
		// when no operation asks (an operation that fails selection also
		// triggers an immediate check).
		SetHeartbeatInterval(2 * time.Second).
		ApplyURI(uri)
	var monitor *event.CommandMonitor
	if s.Embedded {
		monitor = (&writeGate{}).monitor() // writers.go
	}
	if opts.Observe != nil {
		monitor = observed(monitor, opts.Observe)
	}
	if monitor != nil {
		co.SetMonitor(monitor)
	}
	client, err := mongo.Connect(co)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, openWait)
	defer cancel()
	for {
		err = client.Ping(pingCtx, nil)
		if err == nil || pingCtx.Err() != nil || !Unavailable(err) {
			break
		}
		// Selection gave up after its few seconds: keep trying until openWait.
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		_ = client.Disconnect(context.Background())
		s.stop()
		return nil, fmt.Errorf("store: ping %s: %w", redact(uri), err)
	}
	s.Client = client
	if s.Embedded {
		embeddedDirs.Store(client, s.dir)
		if err := indexAllIDs(ctx, s.dir); err != nil {
			_ = client.Disconnect(context.Background())
			s.stop()
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return s, nil
}

func (s *Store) startEmbedded(opts Options) (string, error) {
	if opts.DataDir == "" {
		return "", errors.New("store: no MongoDB URI and no data folder for the embedded store")
	}
	dir := filepath.Join(opts.DataDir, "db")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("store: data folder: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	// Reserve a free loopback port; FerretDB needs a concrete address.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	_ = l.Close()
	f, err := newFerret(abs, addr, opts.Logger)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopEmbedded = cancel
	s.embeddedDone = make(chan struct{})
	s.Embedded, s.dir = true, abs
	go func() {
		defer close(s.embeddedDone)
		_ = f.Run(ctx)
	}()
	return "mongodb://" + addr + "/", nil
}

// observed returns m (nil: a monitor that only observes) with observe
// called first at each command's start.
func observed(m *event.CommandMonitor, observe func(context.Context, *event.CommandStartedEvent)) *event.CommandMonitor {
	if m == nil {
		return &event.CommandMonitor{Started: observe}
	}
	started := m.Started
	out := *m
	out.Started = func(ctx context.Context, e *event.CommandStartedEvent) {
		observe(ctx, e)
		if started != nil {
			started(ctx, e)
		}
	}
	return &out
}

// newFerret makes an embedded FerretDB on SQLite files in dir, listening on
// addr (it binds at once: a taken address is an error here).
func newFerret(dir, addr string, logger *slog.Logger) (*ferretdb.FerretDB, error) {
	if logger == nil {
		logger = slog.Default()
	}
	// FerretDB logs every connection at Info and every refused command (such as an unsupported index option we probe for) at Warn; keep only its errors.
	quiet := slog.New(levelFilter{h: logger.Handler(), min: slog.LevelError})
	// temp_store(memory): FerretDB writes a grouped insert (store.Inserter)
	// as one multi-row INSERT, for which SQLite keeps a statement journal
	// (to undo the statement alone on a duplicate _id). By default that
	// journal is a 64 KiB in-memory chunk that SQLite's allocator here
	// (modernc) maps and unmaps for every statement: 12 % of the CPU of the
	// `ingest` figure (docs/benchmarks.md). With temp_store in memory it is
	// kept in 1 KiB chunks instead. SQLite's temporary tables and sorts
	// stay in memory too; FerretDB 1.24 sorts documents in Go (SQL orders
	// only by its record id, indexed), so they are small.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(normal)&_pragma=temp_store(memory)",
		Logger:    quiet,
	})
	if err != nil {
		return nil, fmt.Errorf("store: embedded FerretDB: %w", err)
	}
	return f, nil
}

func (s *Store) stop() {
	if s.stopEmbedded != nil {
		s.stopEmbedded()
		<-s.embeddedDone
		s.stopEmbedded = nil
	}
}

// DB returns the named database.
func (s *Store) DB(name string) *mongo.Database { return s.Client.Database(name) }

// Close disconnects and stops the embedded store, if any.
func (s *Store) Close(ctx context.Context) error {
	err := s.Client.Disconnect(ctx)
	s.stop()
	return err
}

// IsDuplicate reports whether err is a duplicate-key error: for our
// "insert with _id = IRI" writes that means "already have it".
func IsDuplicate(err error) bool { return mongo.IsDuplicateKeyError(err) }

// NotFound maps the driver's "no documents" to ErrNotFound.
func NotFound(err error) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ErrNotFound
	}
	return err
}

// EnsureIndexes creates indexes idempotently (same spec twice is a no-op).
// One index per command: the embedded FerretDB (1.24.2) drops the connection
// when one createIndexes names several indexes that already exist, which is
// every start after the first.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	for _, m := range models {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("store: indexes on %s: %w", coll.Name(), err)
		}
	}
	// The collection exists now: give it the _id index the embedded store
	// lacks (idindex.go).
	return indexCollectionIDs(ctx, coll)
}

func redact(uri string) string {
	if len(uri) > 20 {
		return uri[:20] + "…"
	}
	return uri
}

type levelFilter struct {
	h   slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.h.Enabled(ctx, l)
}
func (f levelFilter) Handle(ctx context.Context, r slog.Record) error { return f.h.Handle(ctx, r) }
func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{h: f.h.WithAttrs(a), min: f.min}
}
func (f levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{h: f.h.WithGroup(n), min: f.min}
}
