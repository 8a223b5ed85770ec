package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to both parsers: they must never panic,
// and a batch they return must carry exactly the errors they reported.
func FuzzParse(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b, filepath.Ext(n) == ".json")
		}
	}
	f.Add([]byte("id,plan_id,title,start_date,end_date,lead_institution\n\"a"), false)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		format := FormatCSV
		if asJSON {
			format = FormatJSON
		}
		l := Limits{MaxBytes: 1 << 16, MaxRows: 50, MaxCellChars: 500, Lang: "es"}
		b, errs := Parse(format, bytes.NewReader(data), l)
		if b != nil && len(b.Errors) != len(errs) {
			t.Fatalf("batch has %d errors, parser reported %d", len(b.Errors), len(errs))
		}
		if b == nil && len(errs) == 0 {
			t.Fatal("no batch and no error")
		}
		if b != nil && len(b.Rows) > l.MaxRows {
			t.Fatalf("%d rows past the limit", len(b.Rows))
		}
	})
}
