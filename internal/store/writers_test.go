package store

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
)

// TestWriteGateOneWriterAtATime: a second write command waits until the
// first one's reply (success or failure); reads never wait.
func TestWriteGateOneWriterAtATime(t *testing.T) {
	ctx := context.Background()
	m := (&writeGate{}).monitor()
	m.Started(ctx, &event.CommandStartedEvent{CommandName: "insert", RequestID: 1})
	m.Started(ctx, &event.CommandStartedEvent{CommandName: "find", RequestID: 2}) // a read: passes
	second := make(chan struct{})
	go func() {
		m.Started(ctx, &event.CommandStartedEvent{CommandName: "update", RequestID: 3})
		close(second)
	}()
	select {
	case <-second:
		t.Fatal("a second write started while the first had not answered")
	case <-time.After(50 * time.Millisecond):
	}
	m.Failed(ctx, &event.CommandFailedEvent{CommandFinishedEvent: event.CommandFinishedEvent{RequestID: 1}})
	select {
	case <-second:
	case <-time.After(5 * time.Second):
		t.Fatal("the second write never started after the first failed")
	}
	m.Succeeded(ctx, &event.CommandSucceededEvent{CommandFinishedEvent: event.CommandFinishedEvent{RequestID: 2}}) // a read's reply releases nothing
	m.Succeeded(ctx, &event.CommandSucceededEvent{CommandFinishedEvent: event.CommandFinishedEvent{RequestID: 3}})
	m.Started(ctx, &event.CommandStartedEvent{CommandName: "delete", RequestID: 4}) // free again: does not block
}
