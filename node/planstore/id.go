package planstore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// crockford is Crockford's base32 alphabet: no I, L, O, U, so ids read
// aloud and copied by hand survive, and it sorts in ASCII order.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// IDGenerator makes ULID-shaped ids: 26 characters, a 48-bit millisecond
// time then 80 random bits. Ids from one generator strictly increase, even
// within one millisecond (the random part is incremented), so sorting by
// _id is sorting by creation.
type IDGenerator struct {
	mu       sync.Mutex
	lastMS   uint64
	lastRand [10]byte
}

// NewIDGenerator returns a generator.
func NewIDGenerator() *IDGenerator { return &IDGenerator{} }

// New returns the next id for time t.
func (g *IDGenerator) New(t time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := uint64(t.UnixMilli())
	if ms <= g.lastMS {
		// Same millisecond, or the clock went back: stay monotonic.
		ms = g.lastMS
		if !increment(&g.lastRand) {
			ms++ // 80-bit overflow: borrow the next millisecond
		}
	} else {
		_, _ = rand.Read(g.lastRand[:])
		g.lastRand[0] &= 0x7f // leave room to increment within a millisecond
	}
	g.lastMS = ms
	return encode(ms, g.lastRand)
}

func increment(b *[10]byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return true
		}
	}
	return false
}

// encode writes 48 bits of time and 80 bits of randomness as 26 base32
// characters (the first character carries only 3 bits).
func encode(ms uint64, r [10]byte) string {
	var out [26]byte
	// Time: 10 characters, 50 bits of which the top 2 are zero.
	for i := 9; i >= 0; i-- {
		out[i] = crockford[ms&31]
		ms >>= 5
	}
	// Randomness: 80 bits = 16 characters, taken 5 bits at a time.
	var acc uint64
	bits := 0
	pos := 10
	for _, b := range r {
		acc = acc<<8 | uint64(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out[pos] = crockford[(acc>>uint(bits))&31]
			pos++
		}
	}
	return string(out[:])
}

// DerivedID returns the k-th of a series of ULID-shaped ids fixed by t and
// seed: the same arguments give the same id, and within one series ids
// grow with k. An import job stores its progress updates under these
// (seed = the job's id), so a job resumed after a crash finds the updates
// it had written rather than adding them twice.
func DerivedID(t time.Time, seed string, k int) string {
	sum := sha256.Sum256([]byte(seed))
	var r [10]byte
	copy(r[:6], sum[:6])
	binary.BigEndian.PutUint32(r[6:], uint32(k))
	return encode(uint64(t.UnixMilli()), r)
}
