package federation

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a 26-character, URL-safe identifier that sorts by creation
// time (48 bits of milliseconds, then 80 random bits, like a ULID), so that
// "_id < cursor" pages through collections newest first without an extra
// index.
func NewID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return strings.ToLower(idEncoding.EncodeToString(b[:]))
}
