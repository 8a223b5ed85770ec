package ogp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic, and
// whatever it accepts must survive a second encode → parse unchanged, so
// the hub can store and re-serve what it accepted.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"type":"Note"}`))
	f.Add([]byte(`{"type":"Create","object":"https://a.example/x"}`))
	f.Add([]byte(`{"type":"Article","ogp:identifier":"JAL0001","ogp:milestones":[{}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		kind, obj, err := Parse(raw)
		if err != nil {
			return
		}
		again, err := json.Marshal(obj)
		if err != nil {
			t.Fatalf("accepted %s but cannot re-encode it: %v", kind, err)
		}
		kind2, obj2, err := Parse(again)
		if err != nil {
			t.Fatalf("accepted %s but rejects its own re-encoding: %v\n%s", kind, err, again)
		}
		third, _ := json.Marshal(obj2)
		if kind2 != kind || string(third) != string(again) {
			t.Fatalf("re-encoding is not stable:\n%s\n%s", again, third)
		}
	})
}
