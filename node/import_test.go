package node

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/node/service"
	nodeweb "github.com/ogpnet/ogpnet/node/web"
)

// importJSON uses the canonical planId for JAL0001, and the deprecated
// "plan" and "commitment" (accepted for one release) for JAL0002 and the
// progress update.
const importJSON = `{
  "lang": "es",
  "plan": {
    "id": "2016-2018",
    "title": {"es": "Plan de Acción Local 2016-2018", "en": "Local Action Plan 2016-2018"},
    "jurisdiction": "Jalisco", "prefix": "JAL",
    "period": {"start": "2017-01-01", "end": "2018-06-30"},
    "status": "implementation",
    "guidelines": {"process-published": {"level": "met"}},
    "participation": {"development": "involve", "implementation": "collaborate"}
  },
  "commitments": [
    {"id": "JAL0001", "planId": "2016-2018", "title": {"es": "Intervención en Lomas de Polanco", "en": "Intervention in Lomas de Polanco"},
     "startDate": "2017-01-01", "endDate": "2018-06-30", "leadInstitution": "Municipio de Guadalajara",
     "values": ["civic-participation"], "completion": "limited",
     "milestones": [{"id": "1", "title": "Mesas vecinales", "end": "2017-06-30", "status": "complete", "completedOn": "2017-06-15"}]},
    {"id": "JAL0002", "plan": "2016-2018", "title": "Brecha salarial", "startDate": "2017-01-01", "endDate": "2018-06-30",
     "leadInstitution": "Secretaría del Trabajo", "completion": "not-started"}
  ],
  "progressUpdates": [
    {"commitment": "JAL0001", "date": "2017-06-15", "text": "Se instalaron las mesas vecinales."}
  ]
}`

const importCSV = "id,plan_id,title,title:en,start_date,end_date,lead_institution,completion\n" +
	"JAL0003,2016-2018,Registro de jornaleros,Farm workers register,2017-01-01,2018-06-30,Secretaría del Trabajo,limited\n"

const milestonesCSV = "commitment_id,milestone_id,title,end_date,status\n" +
	"JAL0003,1,Diseño,2017-06-30,in-progress\n"

// postImport sends files as a multipart upload to the API.
func postImport(t *testing.T, c *http.Client, u, tok string, files map[string]string) (*http.Response, ImportReport, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for field, content := range files {
		name := field + ".csv"
		if strings.HasPrefix(strings.TrimSpace(content), "{") {
			name = field + ".json"
		}
		w, _ := mw.CreateFormFile(field, name)
		_, _ = w.Write([]byte(content))
	}
	_ = mw.Close()
	resp, body := do(t, c, http.MethodPost, u, buf.String(), map[string]string{
		"Authorization": "Bearer " + tok, "Content-Type": mw.FormDataContentType()})
	if resp.StatusCode == http.StatusAccepted {
		// Queued as a job: wait for its result, and answer with the job's
		// last GET, whose result is the import's report.
		return awaitImportJob(t, c, u, tok, resp, body)
	}
	var rep ImportReport
	_ = json.Unmarshal([]byte(body), &rep)
	return resp, rep, body
}

// awaitImportJob polls the job a 202 answer points at until it is done and
// returns the last GET with the job's result as the report and body.
func awaitImportJob(t *testing.T, c *http.Client, posted, tok string, resp *http.Response, body string) (*http.Response, ImportReport, string) {
	t.Helper()
	loc := resp.Header.Get("Location")
	var st service.ImportStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil || !strings.HasPrefix(loc, "/api/v1/import/jobs/") || st.ID == "" || st.Total == 0 {
		t.Fatalf("202 without a job: Location %q, body %s", loc, body)
	}
	base, _, _ := strings.Cut(posted, "/api/")
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body = do(t, c, http.MethodGet, base+loc, nil, bearer(tok))
		mustStatus(t, resp, body, http.StatusOK)
		st = service.ImportStatus{}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		if st.Finished() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("import job not done after 30 s: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st.State != "done" || st.Result == nil || st.Done != st.Total {
		t.Fatalf("import job ended %s: %s", st.State, body)
	}
	raw, _ := json.Marshal(st.Result)
	return resp, *st.Result, string(raw)
}

// TestImportOverHTTP: a dry run reports and writes nothing; commit writes
// and publishes; re-importing changes nothing; a partly bad file and
// hostile files are refused whole, with errors per row.
func TestImportOverHTTP(t *testing.T) {
	ctx := context.Background()
	tn, c, tok := startWithToken(t, "jalisco")
	api := tn.base + "/api/v1/import"

	resp, rep, body := postImport(t, c, api+"?dryRun=true", tok, map[string]string{"file": importJSON})
	mustStatus(t, resp, body, http.StatusOK)
	if !rep.DryRun || rep.Committed || rep.Created != 2 || rep.UpdatesAdded != 1 {
		t.Fatalf("dry run report: %s", body)
	}
	if cs, _ := tn.svc.Store().ListCommitments(ctx, ""); len(cs) != 0 {
		t.Fatalf("a dry run wrote %d commitments", len(cs))
	}

	// A commit answers 202 at once with the job's location; the job then
	// applies it and says so.
	raw, ctype := multipartFile(importJSON)
	resp, body = do(t, c, http.MethodPost, api, raw, map[string]string{"Authorization": "Bearer " + tok, "Content-Type": ctype})
	mustStatus(t, resp, body, http.StatusAccepted)
	if !strings.Contains(body, `"state":"queued"`) && !strings.Contains(body, `"state":"running"`) || !strings.Contains(body, `"rowsTotal":4`) {
		t.Errorf("202 body: %s", body)
	}
	_, rep, body = awaitImportJob(t, c, api, tok, resp, body)
	if !rep.Committed || rep.Created != 2 || rep.UpdatesAdded != 1 {
		t.Fatalf("commit report: %s", body)
	}
	// Only operators see jobs.
	resp, body = do(t, loopbackClient(), http.MethodGet, tn.base+"/api/v1/import/jobs/x", nil, nil)
	mustStatus(t, resp, body, http.StatusUnauthorized)
	resp, body = do(t, c, http.MethodGet, tn.base+"/api/v1/import/jobs/no-such-job", nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusNotFound)
	// Published: the outbox holds the plan, both commitments and the note.
	_, outbox := get(t, c, tn.Federation().OutboxID(), "application/activity+json")
	if !strings.Contains(outbox, `"totalItems":`) {
		t.Errorf("outbox: %s", outbox)
	}
	_, page := get(t, c, tn.base+"/commitments/JAL0001?lang=es", "text/html")
	if !strings.Contains(page, "Se instalaron las mesas vecinales.") {
		t.Errorf("imported update not on the page")
	}

	// Re-import: nothing changes, nothing duplicates.
	resp, rep, body = postImport(t, c, api, tok, map[string]string{"file": importJSON})
	mustStatus(t, resp, body, http.StatusOK)
	if rep.Created != 0 || rep.Updated != 0 || rep.Unchanged != 2 || rep.UpdatesAdded != 0 {
		t.Errorf("re-import report: %s", body)
	}
	if ups, _ := tn.svc.Store().ListUpdates(ctx, "JAL0001", 0); len(ups) != 1 {
		t.Errorf("re-import duplicated updates: %d", len(ups))
	}

	// CSV with a milestones file.
	resp, rep, body = postImport(t, c, api+"?format=csv", tok, map[string]string{"file": importCSV, "milestones": milestonesCSV})
	mustStatus(t, resp, body, http.StatusOK)
	if rep.Created != 1 {
		t.Errorf("CSV import: %s", body)
	}
	if cm, err := tn.svc.Store().GetCommitment(ctx, "JAL0003"); err != nil || len(cm.Milestones) != 1 {
		t.Errorf("CSV commitment: %+v %v", cm, err)
	}

	// Partly bad: one good row, one bad row → nothing written, errors name the row.
	partly := "id,plan_id,title,start_date,end_date,lead_institution,completion\n" +
		"JAL0005,2016-2018,Bueno,2017-01-01,2018-06-30,Secretaría,limited\n" +
		"JAL0006,2016-2018,Malo,2017-01-01,not-a-date,Secretaría,halfway\n"
	resp, rep, body = postImport(t, c, api, tok, map[string]string{"file": partly})
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	if rep.Committed || !rep.HasErrors() || !strings.Contains(body, `"row":3`) {
		t.Errorf("partly bad report: %s", body)
	}
	if _, err := tn.svc.Store().GetCommitment(ctx, "JAL0005"); err == nil {
		t.Error("the good row of a bad file was written")
	}

	// Hostile inputs: garbage, wrong shapes, deep nesting, over the size
	// limit. Each is refused (4xx) and writes nothing.
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	for name, file := range map[string]string{
		"binary":  "\x00\x01\x02\xff\xfe garbage",
		"array":   `[{"id": "JAL0008"}]`,
		"unknown": `{"commitments": [{"id": "JAL0008", "titel": "x"}]}`,
		"deep":    `{"commitments": ` + deep + `}`,
	} {
		format := "csv"
		if strings.HasPrefix(file, "{") || strings.HasPrefix(file, "[") {
			format = "json"
		}
		resp, rep, body := postImport(t, c, api+"?format="+format, tok, map[string]string{"file": file})
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || rep.Committed {
			t.Errorf("hostile %s: %d %s", name, resp.StatusCode, body)
		}
	}
	big := strings.Repeat("x", nodeweb.MaxImportBytes+10)
	resp, _, body = postImport(t, c, api+"?format=csv", tok, map[string]string{"file": big})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized import: %d %s", resp.StatusCode, body)
	}
	// A 3 MB file is within the import's own limit (5 MiB a file), above
	// the site-wide 2 MB request cap: the importer, not the cap, judges it.
	mid := "id,plan_id,title,start_date,end_date,lead_institution,completion\n" +
		strings.Repeat("JAL0099,2016-2018,"+strings.Repeat("t", 1500)+",2017-01-01,2018-06-30,x,limited\n", 1950)
	resp, _, body = postImport(t, c, api+"?format=csv&dryRun=true", tok, map[string]string{"file": mid})
	if resp.StatusCode == http.StatusRequestEntityTooLarge || resp.StatusCode >= 500 {
		t.Errorf("a %d-byte import was refused by size: %d %.200s", len(mid), resp.StatusCode, body)
	}
	if cs, _ := tn.svc.Store().ListCommitments(ctx, ""); len(cs) != 3 {
		t.Errorf("after hostile imports: %d commitments, want 3", len(cs))
	}

	// Markup and spreadsheet formulas are plain text: stored as written and
	// escaped on the pages. (The Article's "summary", which AS2 defines as
	// HTML, is built by node/plan's Wire; see the report on escaping it.)
	markup := "id,plan_id,title,start_date,end_date,lead_institution,completion\n" +
		"JAL0007,2016-2018,<script>alert(1)</script>,2017-01-01,2018-06-30,\"=HYPERLINK(\"\"http://evil.example\"\")\",limited\n"
	resp, _, body = postImport(t, c, api+"?format=csv", tok, map[string]string{"file": markup})
	mustStatus(t, resp, body, http.StatusOK)
	_, page = get(t, c, tn.base+"/commitments/JAL0007", "text/html")
	if strings.Contains(page, "<script>alert(1)") || !strings.Contains(page, "&lt;script&gt;alert(1)") {
		t.Errorf("markup in a title is not escaped on the page")
	}
}

// TestImportForm: the operator's import page checks a file (dry run, shown
// with a commit button carrying the checked text) and then commits it.
func TestImportForm(t *testing.T) {
	tn := startNode(t, "jalisco")
	ana := tn.login(t, operatorUser)
	token := csrf(t, ana, tn.base+"/admin/import")

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("_csrf", token)
	_ = mw.WriteField("action", "dry-run")
	w, _ := mw.CreateFormFile("file", "plan.json")
	_, _ = w.Write([]byte(importJSON))
	_ = mw.Close()
	resp, body := do(t, ana, http.MethodPost, tn.base+"/admin/import", buf.String(),
		map[string]string{"Content-Type": mw.FormDataContentType(), "Accept": "text/html"})
	mustStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, `value="commit"`) || !strings.Contains(body, "JAL0002") {
		t.Fatalf("dry-run page lacks the commit form or the rows")
	}
	if cs, _ := tn.svc.Store().ListCommitments(context.Background(), ""); len(cs) != 0 {
		t.Fatal("the dry run wrote")
	}

	buf.Reset()
	mw = multipart.NewWriter(&buf)
	_ = mw.WriteField("_csrf", token)
	_ = mw.WriteField("action", "commit")
	_ = mw.WriteField("format", "json")
	_ = mw.WriteField("data", importJSON)
	_ = mw.Close()
	resp, body = do(t, ana, http.MethodPost, tn.base+"/admin/import", buf.String(),
		map[string]string{"Content-Type": mw.FormDataContentType(), "Accept": "text/html"})
	// The commit sends the operator to the job's page, which reloads itself
	// (no JavaScript) until the job is done.
	mustStatus(t, resp, body, http.StatusOK)
	if !strings.HasPrefix(resp.Request.URL.Path, "/admin/import/jobs/") {
		t.Fatalf("commit ended at %s", resp.Request.URL)
	}
	jobPage := resp.Request.URL.String()
	waitFor(t, "the import job to finish", func() bool {
		// An English reader (the node's own UI language is Spanish).
		resp, body = do(t, ana, http.MethodGet, jobPage, nil, map[string]string{"Accept": "text/html", "Accept-Language": "en"})
		return resp.Header.Get("Refresh") == "" && strings.Contains(body, "2 created")
	})
	if cs, _ := tn.svc.Store().ListCommitments(context.Background(), ""); len(cs) != 2 {
		t.Fatalf("commit wrote %d commitments, want 2", len(cs))
	}
}

// multipartFile is file as a multipart upload in field "file": the body
// and its content type.
func multipartFile(file string) (string, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", "import.json")
	_, _ = w.Write([]byte(file))
	_ = mw.Close()
	return buf.String(), mw.FormDataContentType()
}
