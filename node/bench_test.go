package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/benchfig"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/planstore"
	"github.com/ogpnet/ogpnet/node/service"
)

// The figures of issue 11 that the node owns (internal/benchfig; `make
// bench` collects them): node-page and node-page-10x, the p99 of a
// commitment page with 100 progress updates on a node holding 150 and
// 1,500 commitments (baseline: /healthz's p99 in the same run), and
// import, the seconds a 1,500-row CSV takes from the POST until every row
// is applied and published (baseline: the time to validate it only).
//
//	go test -run '^$' -bench Figure ./node/

// benchNode runs a node (tokens-only sign-in) on a fresh database that
// seed filled first, so the node's start-up loads it like a node that
// restarts on old data.
func benchNode(b *testing.B, seed func(ctx context.Context, st *planstore.Store) error) (*Node, string) {
	b.Helper()
	ctx := context.Background()
	db := storetest.DB(b)
	if seed != nil {
		st := planstore.New(db)
		if err := seed(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
	l, base := listen(b, "bench")
	n, err := New(ctx, Config{BaseURL: base, Slug: "bench", Name: "Bench", Lang: "es", Languages: []string{"es", "en"},
		DB: db, Version: "test", Logger: discard()})
	if err != nil {
		b.Fatal(err)
	}
	serve(b, l, n.Handler())
	runBackground(b, n.Run)
	return n, base
}

func benchCommitment(i int) plan.Commitment {
	return plan.Commitment{
		ID: fmt.Sprintf("JAL%04d", i), PlanID: "2016-2018",
		Title:     plan.NewText("es", fmt.Sprintf("Compromiso número %d", i)).With("en", fmt.Sprintf("Commitment number %d", i)),
		StartDate: "2017-01-01", EndDate: "2018-06-30", LeadInstitution: "Secretaría del Trabajo",
		Description: plan.NewText("es", strings.Repeat("Un registro público de jornaleros agrícolas. ", 10)),
		Values:      []plan.Value{ogp.ValueAccessToInformation},
		Milestones: []plan.Milestone{
			{ID: "1", Title: plan.NewText("es", "Diseño del registro"), End: "2017-06-30", Status: ogp.MilestoneInProgress},
			{ID: "2", Title: plan.NewText("es", "Publicación"), End: "2018-03-31", Status: ogp.MilestoneNotStarted},
		},
		Completion: ogp.CompletionLimited,
		Created:    time.Date(2017, 1, 2, 0, 0, 0, 0, time.UTC), Updated: time.Date(2017, 1, 2, 0, 0, 0, 0, time.UTC),
	}
}

func benchPlan() plan.ActionPlan {
	p := plan.NewActionPlan("2016-2018")
	p.Title = plan.NewText("es", "Plan de acción 2016-2018")
	p.Jurisdiction, p.Prefix = "Jalisco", "JAL"
	p.Period = plan.Period{Start: "2016-12-01", End: "2018-06-30"}
	p.Status = ogp.PlanImplementation
	return p
}

// seedCommitments stores the plan, n commitments with perCommitment
// progress updates each, and 100 updates on JAL0001 (the page measured),
// straight into the collections.
func seedCommitments(n, perCommitment int) func(ctx context.Context, st *planstore.Store) error {
	return func(ctx context.Context, st *planstore.Store) error {
		db := st.Database()
		p := benchPlan()
		p.Created, p.Updated = time.Date(2016, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2016, 12, 1, 0, 0, 0, 0, time.UTC)
		if _, err := db.Collection(planstore.PlansCollection).InsertOne(ctx, p); err != nil {
			return err
		}
		var cs, ups []any
		at := time.Date(2017, 2, 1, 0, 0, 0, 0, time.UTC)
		for i := 1; i <= n; i++ {
			c := benchCommitment(i)
			cs = append(cs, c)
			k := perCommitment
			if i == 1 {
				k = 100
			}
			for j := range k {
				ups = append(ups, plan.ProgressUpdate{ID: planstore.DerivedID(at, c.ID, j), CommitmentID: c.ID,
					Date:    plan.Date(fmt.Sprintf("2017-%02d-%02d", 2+j/28%10, 1+j%28)),
					Text:    plan.NewText("es", fmt.Sprintf("Avance %d del compromiso %s: se publicaron los datos del trimestre.", j, c.ID)),
					Created: at.Add(time.Duration(j) * time.Minute)})
			}
		}
		for _, part := range []struct {
			coll string
			docs []any
		}{{planstore.CommitmentsCollection, cs}, {planstore.UpdatesCollection, ups}} {
			for chunk := range slices.Chunk(part.docs, 1000) {
				if _, err := db.Collection(part.coll).InsertMany(ctx, chunk); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// p99s GETs each of urls in turn, n rounds (after a few warm-up ones),
// and returns each URL's 99th percentile in milliseconds. Interleaving
// them puts the page and its baseline under the same load of the machine.
func p99s(b *testing.B, c *http.Client, n int, urls ...string) []float64 {
	b.Helper()
	return p99sAs(b, c, n, "text/html", urls...)
}

// p99sAs is p99s asking for accept.
func p99sAs(b *testing.B, c *http.Client, n int, accept string, urls ...string) []float64 {
	b.Helper()
	took := make([][]time.Duration, len(urls))
	for i := range n + 10 {
		for k, u := range urls {
			start := time.Now()
			resp, body := get(b, c, u, accept)
			d := time.Since(start)
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET %s: %d %.200s", u, resp.StatusCode, body)
			}
			if i >= 10 {
				took[k] = append(took[k], d)
			}
		}
	}
	out := make([]float64, len(urls))
	for k, t := range took {
		slices.Sort(t)
		p := t[(len(t)*99+99)/100-1]
		b.Logf("%s: p50 %s, p90 %s, p99 %s, max %s", urls[k], t[len(t)/2], t[len(t)*9/10], p, t[len(t)-1])
		out[k] = float64(p) / float64(time.Millisecond)
	}
	return out
}

// BenchmarkFigureNodePage: p99 of the HTML page of a commitment with 100
// progress updates, on a node of 150 and of 1,500 commitments (2 updates
// each besides), and the start-up rebuild of the node's memory at each
// size.
func BenchmarkFigureNodePage(b *testing.B) {
	for _, tc := range []struct {
		figure string
		n      int
	}{{"node-page", 150}, {"node-page-10x", 1500}} {
		b.Run(tc.figure, func(b *testing.B) {
			n, base := benchNode(b, seedCommitments(tc.n, 2))
			loaded := n.Loaded()
			if loaded.Commitments != tc.n {
				b.Fatalf("loaded %+v", loaded)
			}
			// The seeded objects were never published: let the start-up
			// reconcile publish them all before measuring (this call
			// waits for it, then finds nothing left to do).
			start := time.Now()
			if _, err := n.Service().Reconcile(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Logf("start-up reconcile published the seeded objects in %s", time.Since(start))
			c := loopbackClient()
			const requests = 400
			ms := p99s(b, c, requests, base+"/commitments/JAL0001", base+"/healthz")
			page, health := ms[0], ms[1]
			b.ReportMetric(float64(loaded.Took)/float64(time.Millisecond), "rebuild_ms")
			b.Logf("start-up rebuild: %d commitments, %d progress updates in %s", loaded.Commitments, loaded.Updates, loaded.Took)
			benchfig.Report(b, benchfig.Row{Figure: tc.figure, Value: page, Unit: "ms", Baseline: health,
				Scale: fmt.Sprintf("%d commitments, %d progress updates, 100 on the page; baseline /healthz p99", tc.n, loaded.Updates)})
		})
	}
}

// BenchmarkFigureImport: a 1,500-row CSV posted to the API, timed until
// its job is done (every row stored and its activity in the outbox); the
// baseline is a dry run of the same file (parse and validate only).
// Meanwhile a commitment page is fetched in a loop: its slowest answer
// during the import is reported too.
//
// The node has one follower (as every node has: the hub), so every activity
// is also queued for delivery, in one batched enqueue per batch of rows
// (federation.PublishAll → delivery.EnqueueMany), and the queue's worker
// delivers meanwhile; OGPNET_BENCH_IMPORT_FOLLOWER=0 measures without it.
// Before the batched enqueue and the store's _id index this took over 80 s.
func BenchmarkFigureImport(b *testing.B) {
	ctx := context.Background()
	n, base := benchNode(b, nil)
	followers := 0
	if os.Getenv("OGPNET_BENCH_IMPORT_FOLLOWER") != "0" {
		followBench(b, n)
		followers = 1
	}
	svc := n.Service()
	if _, _, err := svc.SavePlan(ctx, benchPlan()); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateCommitment(ctx, benchCommitment(9999)); err != nil {
		b.Fatal(err)
	}
	const rows = 1500
	var csv strings.Builder
	csv.WriteString("id,plan_id,title,title:en,start_date,end_date,lead_institution,description,values,completion\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&csv, "JAL%04d,2016-2018,Compromiso número %d,Commitment number %d,2017-01-01,2018-06-30,Secretaría del Trabajo,%s,access-to-information,limited\n",
			i, i, i, strings.Repeat("Un registro público de jornaleros agrícolas. ", 10))
	}
	file := csv.String()

	start := time.Now()
	rep, err := svc.Import(ctx, "csv", strings.NewReader(file), nil, true)
	validate := time.Since(start).Seconds()
	if err != nil || rep.HasErrors() || rep.Created != rows {
		b.Fatalf("dry run: %v %s", err, rep.Summary())
	}

	tok, err := n.CreateAPIToken(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	c := loopbackClient()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var slowest time.Duration
	var pages int
	wg.Add(1)
	go func() {
		defer wg.Done()
		pc := loopbackClient()
		for {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			resp, err := pc.Get(base + "/commitments/JAL9999")
			if err == nil {
				resp.Body.Close()
				slowest = max(slowest, time.Since(t0))
				pages++
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()

	start = time.Now()
	resp, body := do(b, c, http.MethodPost, base+"/api/v1/import?format=csv", file, map[string]string{
		"Authorization": "Bearer " + tok, "Content-Type": "text/csv"})
	answered := time.Since(start)
	mustStatus(b, resp, body, http.StatusAccepted)
	loc := base + resp.Header.Get("Location")
	var st service.ImportStatus
	for {
		resp, body = do(b, c, http.MethodGet, loc, nil, bearer(tok))
		mustStatus(b, resp, body, http.StatusOK)
		st = service.ImportStatus{}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			b.Fatal(err)
		}
		if st.Finished() {
			break
		}
		if time.Since(start) > 80*time.Second {
			b.Fatalf("import not done after 80 s: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	if st.State != planstore.JobDone || st.Result == nil || st.Result.Created != rows {
		b.Fatalf("import job: %s", body)
	}
	b.ReportMetric(float64(answered)/float64(time.Millisecond), "answer_ms")
	b.ReportMetric(float64(slowest)/float64(time.Millisecond), "slowest_page_ms")
	b.Logf("the POST answered in %s; %d page loads during the import, the slowest %s", answered, pages, slowest)
	benchfig.Report(b, benchfig.Row{Figure: "import", Value: took, Unit: "s", Baseline: validate,
		Scale: fmt.Sprintf("%d-row CSV, %d followers; baseline: validate only", rows, followers)})
}

// followBench makes a follower (a plain federation server) follow n.
func followBench(b *testing.B, n *Node) {
	ctx := context.Background()
	f := startFollower(b)
	if _, err := f.Follow(ctx, n.Federation().ActorID()); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if fw, err := f.FollowingOf(ctx, n.Federation().ActorID()); err == nil && fw.State == federation.FollowAccepted {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("follow not accepted")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkOutboxPage: p99 of the node's ActivityPub outbox (the
// collection, its first page and a page deep in its history) on a node of
// 150 and of 1,500 commitments whose every object was published (about
// 460 and 4,600 activities), baseline /healthz in the same run.
//
//	go test -run '^$' -bench OutboxPage ./node/
func BenchmarkOutboxPage(b *testing.B) {
	for _, tc := range []struct {
		name string
		n    int
	}{{"150", 150}, {"1500", 1500}} {
		b.Run(tc.name, func(b *testing.B) {
			n, base := benchNode(b, seedCommitments(tc.n, 2))
			if _, err := n.Service().Reconcile(context.Background()); err != nil {
				b.Fatal(err)
			}
			c := loopbackClient()
			outbox := n.Federation().OutboxID()
			// A page in the middle of the history: its cursor is the id of
			// the middle entry (read from the store, so that finding it
			// does not page through a slow outbox first).
			ids, err := outboxIDs(n.Service().Store().Database())
			if err != nil {
				b.Fatal(err)
			}
			deep := outbox + "?page=true&max_id=" + ids[len(ids)/2]
			b.Logf("%d activities in the outbox", len(ids))
			rounds := 200
			if v, err := strconv.Atoi(os.Getenv("OGPNET_BENCH_OUTBOX_ROUNDS")); err == nil && v > 0 {
				rounds = v // the whole-collection scans of before took seconds each
			}
			ms := p99sAs(b, c, rounds, federation.ContentType, outbox, outbox+"?page=true", deep, base+"/healthz")
			b.ReportMetric(ms[0], "collection_p99_ms")
			b.ReportMetric(ms[1], "first_page_p99_ms")
			b.ReportMetric(ms[2], "deep_page_p99_ms")
			b.ReportMetric(ms[3], "healthz_p99_ms")
			// A replica started on this store rebuilds the outbox's memory
			// as a restart does.
			l, replicaBase := listen(b, "bench")
			_ = l.Close()
			replica, err := New(context.Background(), Config{BaseURL: replicaBase, Slug: "bench", Name: "Bench", Lang: "es",
				Languages: []string{"es", "en"}, DB: n.Service().Store().Database(), Version: "test", Logger: discard()})
			if err != nil {
				b.Fatal(err)
			}
			loaded := replica.Federation().OutboxLoaded()
			b.Logf("outbox rebuild: %d entries in %s", loaded.Entries, loaded.Took)
			b.ReportMetric(float64(loaded.Took)/float64(time.Millisecond), "outbox_rebuild_ms")
		})
	}
}

// outboxIDs reads the _id of every outbox entry.
func outboxIDs(db *mongo.Database) ([]string, error) {
	cur, err := db.Collection("outbox").Find(context.Background(), bson.M{}, options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(context.Background(), &docs); err != nil {
		return nil, err
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	slices.Sort(ids)
	return ids, nil
}
