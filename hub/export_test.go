package hub

import (
	"testing"
	"time"
)

// SetAcceptPoll shortens how often the hub looks for newly accepted follows,
// for the test's duration. Call it before starting hubs: the old value is
// put back by a cleanup, which runs after theirs.
func SetAcceptPoll(t *testing.T, d time.Duration) {
	old := acceptPoll
	acceptPoll = d
	t.Cleanup(func() { acceptPoll = old })
}
