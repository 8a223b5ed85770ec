package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/hub/readmodel"
	rt "github.com/ogpnet/ogpnet/hub/readmodel/readmodeltest"
)

// TestExportCSV: the stable header, one row per match, the filter applied.
func TestExportCSV(t *testing.T) {
	_, srv := fixture(t)
	res, body := get(t, srv, "/exports/commitments.csv", "")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(res.Header.Get("Content-Disposition"), `filename="commitments.csv"`) {
		t.Fatalf("csv = %d %v", res.StatusCode, res.Header)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], CSVColumns) || len(rows) != 6 {
		t.Fatalf("header %q, %d rows", rows[0], len(rows))
	}
	col := func(row []string, name string) string { return row[slices.Index(CSVColumns, name)] }
	_, body = get(t, srv, "/exports/commitments.csv?starred=yes", "")
	rows, _ = csv.NewReader(bytes.NewReader(body)).ReadAll()
	if len(rows) != 2 || col(rows[1], "id") != rt.MadLobby || col(rows[1], "starred") != "true" ||
		col(rows[1], "themes") != "Lobbying; Anti-Corruption" || col(rows[1], "milestones_complete") != "1" ||
		col(rows[1], "irm_potential_impact") != "transformative" {
		t.Errorf("starred rows = %q", rows)
	}
	// Sanitised HTML becomes plain text in cells.
	if s := col(rows[1], "summary"); s != "Crear un registro público y obligatorio de grupos de interés." {
		t.Errorf("summary cell = %q", s)
	}
}

// TestCSVRowDefusesFormulas: free text that a spreadsheet would evaluate
// gets a leading quote; identifiers and enums are left alone.
func TestCSVRowDefusesFormulas(t *testing.T) {
	c := readmodel.Commitment{ID: "http://a.localhost/c/1", Name: readmodel.Text{Default: "=HYPERLINK(\"x\")"},
		LeadInstitution: "@lead", Completion: "limited"}
	row := CSVRow(c)
	col := func(name string) string { return row[slices.Index(CSVColumns, name)] }
	if col("name") != `'=HYPERLINK("x")` || col("lead_institution") != "'@lead" || col("completion") != "limited" || col("name_translations") != "{}" {
		t.Errorf("row = %q", row)
	}
	if len(row) != len(CSVColumns) {
		t.Errorf("%d cells for %d columns", len(row), len(CSVColumns))
	}
}

// TestExportJSON: every match with its timeline, and the count.
func TestExportJSON(t *testing.T) {
	_, srv := fixture(t)
	res, body := get(t, srv, "/exports/commitments.json?pilot="+rt.MadridActor, "")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("json export = %d %v", res.StatusCode, res.Header)
	}
	var doc struct {
		Items []struct {
			CommitmentJSON
			Timeline []UpdateJSON `json:"timeline"`
		} `json:"items"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if doc.Total != 2 || len(doc.Items) != 2 || doc.Items[0].ID != rt.MadLobby || len(doc.Items[0].Timeline) != 1 ||
		doc.Items[1].Timeline == nil || len(doc.Items[1].Timeline) != 0 {
		t.Errorf("export = %s", body)
	}
	// Absent values are [] / {} / null, never missing keys.
	for _, key := range []string{`"timeline":[]`, `"irm":null`, `"otherActors":{"government":[],"civilSociety":[]}`} {
		if !strings.Contains(string(body), key) {
			t.Errorf("export lacks %s", key)
		}
	}
}

// TestFeed: Atom, newest first, narrowed by the filter grammar, its id the
// canonical URL.
func TestFeed(t *testing.T) {
	_, srv := fixture(t)
	type feed struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Entries []struct {
			ID      string `xml:"id"`
			Updated string `xml:"updated"`
		} `xml:"entry"`
	}
	read := func(path string) feed {
		t.Helper()
		res, body := get(t, srv, path, "")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
			t.Fatalf("%s = %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		var f feed
		if err := xml.Unmarshal(body, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	all := read("/feed.atom")
	// Five commitments and two progress updates.
	if all.ID != base+PathFeed || len(all.Entries) != 7 || all.Entries[0].ID != rt.JalTeacher+"/updates/1" {
		t.Errorf("feed = %+v", all)
	}
	for i := 1; i < len(all.Entries); i++ {
		if all.Entries[i].Updated > all.Entries[i-1].Updated {
			t.Errorf("entry %d is newer than the one before", i)
		}
	}
	mad := read("/feed.atom" + query("theme", "Lobbying", "pilot", rt.MadridActor))
	if mad.Title != "OGP hub — Madrid — Lobbying" || len(mad.Entries) != 2 ||
		mad.ID != base+PathFeed+query("pilot", rt.MadridActor, "theme", "Lobbying") {
		t.Errorf("narrowed feed = %+v", mad)
	}
	// The rest of the grammar narrows too; yes and true are one feed.
	if a, b := read("/feed.atom?starred=yes"), read("/feed.atom?starred=true"); a.ID != b.ID || len(a.Entries) != 2 {
		t.Errorf("starred feeds = %+v / %+v", a, b)
	}
}
