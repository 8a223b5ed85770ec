package storetest

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The store-read guard (issue 11, docs/architecture.md "How the store is
// read"). The embedded FerretDB pushes down one filter only: a single _id
// equality with a string or ObjectID value; every other filter, a count or
// an aggregation decodes the whole collection. Watch records each command a
// test's database receives that selects documents (find, count, aggregate,
// distinct, update, delete, findAndModify) and says whether it selects them
// by _id or scans, so a test can assert that serving pages and running the
// background loops never scans a collection that grows with history. The
// commands are the driver's, so the same guard runs on MongoDB when
// OGPNET_TEST_MONGO_URI names one (there a scan may be an indexed query;
// the rule is about the embedded store, where it is not).

// Command is one selecting command sent to a watched database.
type Command struct {
	At         time.Time
	Name       string // find, count, aggregate, distinct, update, delete, findAndModify
	Collection string
	// Filter is the filter (an aggregation's first stage) of the command, as
	// extended JSON; for several statements, the first one that scans.
	Filter string
	// Keys are the top-level field names of Filter, sorted ("$and", "_id",
	// "at", …: a bson.M filter is sent in any order), what allow-lists
	// match on.
	Keys []string
	// Tag is what Tag put in the command's context ("" for none): the
	// request a command serves, when the test's handler tags requests.
	Tag string
	// ByID: every statement selects by a single _id equality with a string
	// or ObjectID value, what the embedded store answers from its index.
	ByID bool
}

// Scans reports whether the command reads more than the documents it names
// on the embedded store.
func (c Command) Scans() bool { return !c.ByID }

func (c Command) String() string {
	how := "by _id"
	if c.Scans() {
		how = "SCAN"
	}
	s := fmt.Sprintf("%s %s %s %s", how, c.Name, c.Collection, c.Filter)
	if c.Tag != "" {
		s += " (serving " + c.Tag + ")"
	}
	return s
}

// Watcher holds the commands one database received since Watch.
type Watcher struct {
	mu   sync.Mutex
	cmds []Command
}

// Commands returns the commands received at or after since (zero: all).
func (w *Watcher) Commands(since time.Time) []Command {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Command
	for _, c := range w.cmds {
		if !c.At.Before(since) {
			out = append(out, c)
		}
	}
	return out
}

// Scans returns the scanning commands received at or after since.
func (w *Watcher) Scans(since time.Time) []Command {
	var out []Command
	for _, c := range w.Commands(since) {
		if c.Scans() {
			out = append(out, c)
		}
	}
	return out
}

type tagKey struct{}

// Tag labels the store commands sent with ctx (and contexts made from it):
// a test wraps a server's handler to tag each request with its URL, and
// tells the commands serving requests from those of background loops.
func Tag(ctx context.Context, label string) context.Context {
	return context.WithValue(ctx, tagKey{}, label)
}

// Tagging wraps h so that each request's store commands carry its method
// and URL as their Tag.
func Tagging(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(Tag(r.Context(), r.Method+" "+r.URL.RequestURI())))
	})
}

var (
	watchMu  sync.RWMutex
	watchers = map[string]*Watcher{} // database name → its watcher
)

// Watch records the selecting commands sent to db until the test ends.
func Watch(t testing.TB, db *mongo.Database) *Watcher {
	t.Helper()
	Store(t) // the observer is installed when the shared store opens
	w := &Watcher{}
	watchMu.Lock()
	defer watchMu.Unlock()
	if watchers[db.Name()] != nil {
		t.Fatalf("storetest: database %s is watched already", db.Name())
	}
	watchers[db.Name()] = w
	t.Cleanup(func() {
		watchMu.Lock()
		delete(watchers, db.Name())
		watchMu.Unlock()
	})
	return w
}

// observe is the shared store's command observer: it hands each selecting
// command to the watcher of its database, if any.
func observe(ctx context.Context, e *event.CommandStartedEvent) {
	watchMu.RLock()
	w := watchers[e.DatabaseName]
	watchMu.RUnlock()
	if w == nil {
		return
	}
	c, ok := Classify(e.CommandName, e.Command)
	if !ok {
		return
	}
	c.At = time.Now()
	c.Tag, _ = ctx.Value(tagKey{}).(string)
	w.mu.Lock()
	w.cmds = append(w.cmds, c)
	w.mu.Unlock()
}

// filterFields names, per selecting command, the array of statements (""
// when the command is its own statement) and each statement's filter.
var filterFields = map[string]struct{ statements, filter string }{
	"find":          {"", "filter"},
	"count":         {"", "query"},
	"distinct":      {"", "query"},
	"findAndModify": {"", "query"},
	"aggregate":     {"", ""},
	"update":        {"updates", "q"},
	"delete":        {"deletes", "q"},
}

// Classify says how the command named name (its body cmd) selects
// documents; ok is false for commands that select none (insert, getMore,
// index and session commands, …).
func Classify(name string, cmd bson.Raw) (c Command, ok bool) {
	f, ok := filterFields[name]
	if !ok {
		return Command{}, false
	}
	c.Name = name
	c.Collection, _ = cmd.Lookup(name).StringValueOK() // aggregate: 1 has none
	var filters []bson.Raw
	switch {
	case name == "aggregate":
		// Counted as a scan whatever its first stage: the embedded store's
		// pushdown is not relied on for pipelines (CountDocuments is one).
		stages, _ := cmd.Lookup("pipeline").Array().Values()
		var first bson.Raw
		if len(stages) > 0 {
			first, _ = stages[0].DocumentOK()
		}
		c.Filter, c.Keys = first.String(), keys(first)
		return c, true
	case f.statements != "":
		stmts, _ := cmd.Lookup(f.statements).Array().Values()
		for _, s := range stmts {
			doc, _ := s.DocumentOK()
			q, _ := doc.Lookup(f.filter).DocumentOK()
			filters = append(filters, q)
		}
	default:
		q, _ := cmd.Lookup(f.filter).DocumentOK()
		filters = []bson.Raw{q}
	}
	c.ByID = len(filters) > 0
	for i, q := range filters {
		if i == 0 || (c.ByID && !byID(q)) {
			c.Filter, c.Keys = q.String(), keys(q)
		}
		c.ByID = c.ByID && byID(q)
	}
	if c.Filter == "" {
		c.Filter = "{}"
	}
	return c, true
}

// byID: q is exactly {_id: <string or ObjectID>}.
func byID(q bson.Raw) bool {
	elems, err := q.Elements()
	if err != nil || len(elems) != 1 || elems[0].Key() != "_id" {
		return false
	}
	t := elems[0].Value().Type
	return t == bson.TypeString || t == bson.TypeObjectID
}

func keys(q bson.Raw) []string {
	elems, _ := q.Elements()
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		out = append(out, e.Key())
	}
	sort.Strings(out)
	return out
}

// Allowed is one scanning read a test accepts, with why it is cheap.
type Allowed struct {
	Name, Collection string
	// Keys, when set, are the filter's top-level fields, sorted, joined by
	// ","; empty matches any filter.
	Keys string
	// AtMost, when set, is how many matching commands the checked window
	// may hold: a set re-read only after a write of it comes once per
	// write, while the same read on a timer would come at every tick.
	AtMost int
	// Reason says why the read does not grow with history, Bound what it
	// costs (docs/architecture.md has the same entry).
	Reason, Bound string
}

func (a Allowed) matches(c Command) bool {
	return a.Name == c.Name && a.Collection == c.Collection &&
		(a.Keys == "" || a.Keys == strings.Join(c.Keys, ","))
}

// Unexpected returns the scanning commands that no entry of allowed
// matches, and those beyond an entry's AtMost.
func Unexpected(cmds []Command, allowed []Allowed) []Command {
	seen := make([]int, len(allowed))
	var out []Command
next:
	for _, c := range cmds {
		if !c.Scans() {
			continue
		}
		for i, a := range allowed {
			if a.matches(c) {
				seen[i]++
				if a.AtMost > 0 && seen[i] > a.AtMost {
					break
				}
				continue next
			}
		}
		out = append(out, c)
	}
	return out
}
