package store

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/event"
)

// Why this process lets one write at a time into the embedded store
//
// SQLite takes one writer at a time, and a writer that finds the database
// locked does not queue: its busy handler sleeps (1, 2, 5, 10, … 100 ms)
// and tries again. Concurrent writers therefore lose most of their time
// asleep while the lock is free: measured on the reference VM, 1,365
// single inserts/s from one writer, 842 from two, 404 from eight. That is
// what kept hub ingest at the same 160–200 deliveries/s whatever the
// number of senders, with the CPU partly idle. So, for the embedded store
// only, this process's write commands wait for each other here, in
// order, and reach SQLite one at a time; reads still run side by side.
// (Other processes sharing a served embedded store, `ogpnet store`, still
// contend in SQLite; MongoDB needs none of this and gets no monitor.)

// writeCommands are the commands that take SQLite's write lock.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true,
	"create": true, "createIndexes": true, "drop": true, "dropDatabase": true, "dropIndexes": true,
}

// writeGate admits one write command at a time, from the command's start
// to its reply.
type writeGate struct {
	mu   sync.Mutex
	held sync.Map // request id → struct{}: the command holding mu
}

func (g *writeGate) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			if writeCommands[e.CommandName] {
				g.mu.Lock()
				g.held.Store(e.RequestID, struct{}{})
			}
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { g.release(e.RequestID) },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { g.release(e.RequestID) },
	}
}

func (g *writeGate) release(id int64) {
	if _, ok := g.held.LoadAndDelete(id); ok {
		g.mu.Unlock()
	}
}
