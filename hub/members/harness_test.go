package members

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/delivery"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// Membership is tested against real federation servers on loopback under
// *.localhost names (development mode): the hub's, which follows, and a
// node's, which answers every follow with an Accept. Both use the embedded
// store, as in production.

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startFed starts a federation server named name with its own database.
func startFed(t *testing.T, name, actorType string, db *mongo.Database) *federation.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	fed, err := federation.New(ctx, federation.Config{
		BaseURL: "http://" + name + ".localhost:" + port, Username: name, ActorType: actorType, Name: name,
		DB: db, Logger: quiet(), Version: "test",
		Delivery: delivery.Options{Workers: 2, Lease: 5 * time.Second, PollInterval: 20 * time.Millisecond,
			Backoff: func(int) time.Duration { return 100 * time.Millisecond }},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	e := echo.New()
	fed.Register(e)
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	done := make(chan struct{})
	go func() { defer close(done); _ = fed.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		_ = srv.Close()
		<-done
	})
	return fed
}

// setup is a hub (membership over its own federation server and read
// model) and one node to add.
type setup struct {
	db    *mongo.Database
	fed   *federation.Server
	model *readmodel.Model
	svc   *Service
	node  *federation.Server
}

func newSetup(t *testing.T) *setup {
	t.Helper()
	s := &setup{db: storetest.DB(t)}
	s.fed = startFed(t, "hub", "Group", s.db)
	s.node = startFed(t, "node", "Organization", storetest.DB(t))
	s.model = readmodel.New(time.Now)
	s.svc = s.replica(t, s.model)
	return s
}

// replica is a membership service over the same store and federation
// server, publishing to model (a second hub replica, or this one after a
// restart).
func (s *setup) replica(t *testing.T, model *readmodel.Model) *Service {
	t.Helper()
	svc, err := New(context.Background(), s.db, s.fed, model, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// add makes the node a member and returns its actor IRI.
func (s *setup) add(t *testing.T) string {
	t.Helper()
	if _, err := s.svc.Add(context.Background(), s.handle()); err != nil {
		t.Fatal(err)
	}
	return s.node.ActorID()
}

// handle is the node's @name@host.
func (s *setup) handle() string { return "@" + s.node.Username() + "@" + s.node.Host() }

// stored reads the member document as the store holds it.
func (s *setup) stored(t *testing.T, actor string) Member {
	t.Helper()
	var m Member
	if err := s.db.Collection(Collection).FindOne(context.Background(), map[string]string{"_id": actor}).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// eventually polls cond for up to 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
