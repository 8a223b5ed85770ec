package planstore

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"github.com/ogpnet/ogpnet/node/plan"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore(t *testing.T) (*Store, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2017, 1, 10, 9, 0, 0, 0, time.UTC)}
	s := New(storetest.DB(t), WithClock(clk.now))
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes twice: %v", err)
	}
	return s, clk
}

// Illustrative sample data.
func commitment(id, planID string) plan.Commitment {
	return plan.Commitment{
		ID:              id,
		PlanID:          planID,
		Title:           plan.NewText("es", "Compromiso "+id).With("en", "Commitment "+id),
		StartDate:       "2017-01-01",
		EndDate:         "2017-12-31",
		LeadInstitution: "Secretaría de Planeación",
		PolicyAreas:     []string{"open-data"},
		Milestones: []plan.Milestone{
			{ID: "1", Title: plan.NewText("es", "Hito uno"), End: "2017-06-30", Status: ogp.MilestoneNotStarted},
			{ID: "2", Title: plan.NewText("es", "Hito dos"), End: "2017-12-31", Status: ogp.MilestoneNotStarted},
		},
		Completion: ogp.CompletionNotStarted,
	}
}

func actionPlan(id, start string) plan.ActionPlan {
	p := plan.NewActionPlan(id)
	p.Title = plan.NewText("es", "Plan "+id)
	p.Jurisdiction = "Jalisco"
	p.Period = plan.Period{Start: plan.Date(start), End: "2030-12-31"}
	p.Guidelines[1].Level = ogp.GuidelineMet
	return p
}

func TestPlans(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	if _, err := s.GetPlan(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing plan: %v", err)
	}
	for _, p := range []plan.ActionPlan{actionPlan("2016-2018", "2017-01-01"), actionPlan("2019-2021", "2019-08-01")} {
		if k, err := s.PutPlan(ctx, p); err != nil || k != Created {
			t.Fatalf("PutPlan %s = %v, %v", p.ID, k, err)
		}
	}
	clk.t = clk.t.Add(time.Hour)
	p := actionPlan("2016-2018", "2017-01-01")
	if k, err := s.PutPlan(ctx, p); err != nil || k != Unchanged {
		t.Fatalf("same plan again = %v, %v", k, err)
	}
	p.Status = ogp.PlanEnded
	if k, err := s.PutPlan(ctx, p); err != nil || k != Updated {
		t.Fatalf("changed plan = %v, %v", k, err)
	}
	got, err := s.GetPlan(ctx, "2016-2018")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ogp.PlanEnded || !got.Created.Equal(time.Date(2017, 1, 10, 9, 0, 0, 0, time.UTC)) || !got.Updated.Equal(clk.t) ||
		got.Guidelines[1].Level != ogp.GuidelineMet || got.Guidelines[6].Key != ogp.GuidelineImplementation {
		t.Errorf("stored plan = %+v", got)
	}
	list, err := s.ListPlans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "2019-2021" {
		t.Errorf("ListPlans order = %v", ids(list))
	}
	bad := actionPlan("Bad ID", "2017-01-01")
	if _, err := s.PutPlan(ctx, bad); err == nil {
		t.Error("invalid plan stored")
	}
}

func ids(ps []plan.ActionPlan) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func TestCommitmentUpsertIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	created := clk.t
	c, k, err := s.UpsertCommitment(ctx, commitment("JAL0001", "2016-2018"))
	if err != nil || k != Created {
		t.Fatalf("first upsert = %v, %v", k, err)
	}
	clk.t = clk.t.Add(time.Minute)
	again, k, err := s.UpsertCommitment(ctx, commitment("JAL0001", "2016-2018"))
	if err != nil || k != Unchanged || !again.Updated.Equal(c.Updated) {
		t.Fatalf("same commitment again = %v, %v (updated %v → %v)", k, err, c.Updated, again.Updated)
	}
	changed := commitment("JAL0001", "2016-2018")
	changed.Completion = ogp.CompletionLimited
	got, k, err := s.UpsertCommitment(ctx, changed)
	if err != nil || k != Updated || !got.Created.Equal(created) || !got.Updated.Equal(clk.t) {
		t.Fatalf("changed = %v, %v, %+v", k, err, got)
	}
	stored, err := s.GetCommitment(ctx, "JAL0001")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Completion != ogp.CompletionLimited || stored.Title.Get("en") != "Commitment JAL0001" || len(stored.Milestones) != 2 {
		t.Errorf("stored = %+v", stored)
	}
	if !stored.SameContent(changed) {
		t.Error("stored commitment differs from what was written")
	}
	all, err := s.ListCommitments(ctx, "")
	if err != nil || len(all) != 1 {
		t.Fatalf("duplicates after re-upsert: %d, %v", len(all), err)
	}
	bad := commitment("JAL0002", "2016-2018")
	bad.EndDate = "2016-01-01"
	if _, _, err := s.UpsertCommitment(ctx, bad); err == nil {
		t.Error("invalid commitment stored")
	}
	if _, err := s.GetCommitment(ctx, "JAL0002"); !errors.Is(err, ErrNotFound) {
		t.Errorf("invalid commitment written anyway: %v", err)
	}
}

func TestListAndSoftDelete(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	for _, id := range []string{"JAL0003", "JAL0001", "JAL0002"} {
		if _, _, err := s.UpsertCommitment(ctx, commitment(id, "2016-2018")); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.UpsertCommitment(ctx, commitment("JAL0008", "2019-2021")); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(time.Hour)
	d, err := s.DeleteCommitment(ctx, "JAL0002")
	if err != nil || !d.Deleted || !d.DeletedAt.Equal(clk.t) {
		t.Fatalf("delete = %+v, %v", d, err)
	}
	if _, err := s.DeleteCommitment(ctx, "JAL0009"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing: %v", err)
	}
	list, err := s.ListCommitments(ctx, "2016-2018")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range list {
		got = append(got, c.ID)
	}
	if len(got) != 2 || got[0] != "JAL0001" || got[1] != "JAL0003" {
		t.Errorf("ListCommitments(plan) = %v, want [JAL0001 JAL0003]", got)
	}
	all, _ := s.ListCommitments(ctx, "")
	if len(all) != 3 {
		t.Errorf("ListCommitments(all) = %d, want 3", len(all))
	}
	// The deleted commitment still answers by id, for its Tombstone.
	tomb, err := s.GetCommitment(ctx, "JAL0002")
	if err != nil || !tomb.Deleted {
		t.Errorf("deleted commitment: %+v, %v", tomb, err)
	}
	// Re-importing it restores it as a new publication.
	if _, k, err := s.UpsertCommitment(ctx, commitment("JAL0002", "2016-2018")); err != nil || k != Created {
		t.Errorf("restore = %v, %v", k, err)
	}
	if list, _ := s.ListCommitments(ctx, "2016-2018"); len(list) != 3 {
		t.Errorf("after restore %d listed", len(list))
	}
}

func TestProgressUpdates(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	if _, _, err := s.UpsertCommitment(ctx, commitment("JAL0001", "2016-2018")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpsertCommitment(ctx, commitment("JAL0002", "2016-2018")); err != nil {
		t.Fatal(err)
	}
	var made []string
	for i, text := range []string{"primero", "segundo", "tercero"} {
		u := plan.ProgressUpdate{CommitmentID: "JAL0001", Date: plan.Date("2017-0" + string(rune('3'+i)) + "-01"), Text: plan.NewText("es", text)}
		if i == 1 {
			u.Completion = ogp.CompletionLimited
			u.MilestoneChanges = []plan.MilestoneChange{{MilestoneID: "1", Status: ogp.MilestoneComplete}}
		}
		// Two updates in the same millisecond must still sort in order.
		if i != 2 {
			clk.t = clk.t.Add(time.Second)
		}
		got, c, err := s.AddUpdate(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, got.ID)
		if i == 1 && (c.Completion != ogp.CompletionLimited || c.Milestones[0].CompletedOn != "2017-04-01") {
			t.Errorf("update not applied: %+v", c)
		}
	}
	if _, _, err := s.AddUpdate(ctx, plan.ProgressUpdate{CommitmentID: "JAL0002", Date: "2017-05-01", Text: plan.NewText("es", "otro")}); err != nil {
		t.Fatal(err)
	}
	if !sort.StringsAreSorted(made) || len(made[0]) != 26 {
		t.Errorf("ids not sortable: %v", made)
	}
	c, _ := s.GetCommitment(ctx, "JAL0001")
	if c.Completion != ogp.CompletionLimited || c.Milestones[0].Status != ogp.MilestoneComplete {
		t.Errorf("commitment after updates = %+v", c)
	}
	list, err := s.ListUpdates(ctx, "JAL0001", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != made[0] || list[2].ID != made[2] || list[0].Text.Get("es") != "primero" {
		t.Errorf("ListUpdates = %+v", list)
	}
	last2, err := s.ListUpdates(ctx, "JAL0001", 2)
	if err != nil || len(last2) != 2 || last2[0].ID != made[1] || last2[1].ID != made[2] {
		t.Errorf("ListUpdates limit 2 = %+v, %v", last2, err)
	}
	u, err := s.GetUpdate(ctx, made[1])
	if err != nil || u.CommitmentID != "JAL0001" || u.MilestoneChanges[0].MilestoneID != "1" {
		t.Errorf("GetUpdate = %+v, %v", u, err)
	}
	if _, err := s.GetUpdate(ctx, "01ZZZZZZZZZZZZZZZZZZZZZZZZ"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing update: %v", err)
	}
	// Updates naming a milestone the commitment lacks, or a missing or
	// withdrawn commitment, are refused and store nothing.
	if _, _, err := s.AddUpdate(ctx, plan.ProgressUpdate{CommitmentID: "JAL0001", Date: "2017-05-01", Text: plan.NewText("es", "x"),
		MilestoneChanges: []plan.MilestoneChange{{MilestoneID: "9", Status: ogp.MilestoneComplete}}}); err == nil {
		t.Error("unknown milestone accepted")
	}
	if _, _, err := s.AddUpdate(ctx, plan.ProgressUpdate{CommitmentID: "JAL0077", Date: "2017-05-01", Text: plan.NewText("es", "x")}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing commitment: %v", err)
	}
	if _, err := s.DeleteCommitment(ctx, "JAL0002"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddUpdate(ctx, plan.ProgressUpdate{CommitmentID: "JAL0002", Date: "2017-05-01", Text: plan.NewText("es", "x")}); !errors.Is(err, ErrNotFound) {
		t.Errorf("withdrawn commitment: %v", err)
	}
	if list, _ := s.ListUpdates(ctx, "JAL0001", 0); len(list) != 3 {
		t.Errorf("refused updates were stored: %d", len(list))
	}
}

func TestIDGeneratorMonotonic(t *testing.T) {
	g := NewIDGenerator()
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 2000 {
		tt := at
		if i%500 == 0 {
			tt = at.Add(-time.Second) // clock going back must not break order
		}
		id := g.New(tt)
		if len(id) != 26 || id <= prev {
			t.Fatalf("id %d %q not after %q", i, id, prev)
		}
		prev = id
	}
}

func TestRecordUpdateDoesNotApply(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, _, err := s.UpsertCommitment(ctx, commitment("JAL0001", "2016-2018")); err != nil {
		t.Fatal(err)
	}
	u, err := s.RecordUpdate(ctx, plan.ProgressUpdate{CommitmentID: "JAL0001", Date: "2017-02-01",
		Text: plan.NewText("es", "historia"), Completion: ogp.CompletionComplete})
	if err != nil || u.ID == "" {
		t.Fatalf("RecordUpdate = %+v, %v", u, err)
	}
	c, _ := s.GetCommitment(ctx, "JAL0001")
	if c.Completion != ogp.CompletionNotStarted {
		t.Errorf("RecordUpdate applied the update: %s", c.Completion)
	}
}

// TestEditAndDeleteUpdate: an edit replaces an update's content under the
// same id and Created, with a newer Updated, and never touches the
// commitment; a delete is soft (GetUpdate still finds it, marked) and drops
// the update from every listing shape.
func TestEditAndDeleteUpdate(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	for _, id := range []string{"JAL0001", "JAL0002"} {
		if _, _, err := s.UpsertCommitment(ctx, commitment(id, "2016-2018")); err != nil {
			t.Fatal(err)
		}
	}
	clk.t = clk.t.Add(time.Hour)
	first, _, err := s.AddUpdate(ctx, plan.ProgressUpdate{CommitmentID: "JAL0001", Date: "2017-03-01", Text: plan.NewText("es", "primero"),
		Completion: ogp.CompletionLimited, MilestoneChanges: []plan.MilestoneChange{{MilestoneID: "1", Status: ogp.MilestoneInProgress}}})
	if err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(time.Hour)
	second, _, err := s.AddUpdate(ctx, plan.ProgressUpdate{CommitmentID: "JAL0001", Date: "2017-04-01", Text: plan.NewText("es", "segundo")})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Updated.IsZero() || first.Deleted {
		t.Fatalf("a new update looks edited or deleted: %+v", first)
	}
	before, _ := s.GetCommitment(ctx, "JAL0001")

	// Edit every content field of the first update.
	clk.t = clk.t.Add(time.Hour)
	edit := plan.ProgressUpdate{ID: first.ID, CommitmentID: "JAL0001", Date: "2017-03-02", Text: plan.NewText("es", "primero, corregido").With("en", "first, fixed"),
		Completion: ogp.CompletionSubstantial, MilestoneChanges: []plan.MilestoneChange{{MilestoneID: "2", Status: ogp.MilestoneComplete}},
		Evidence: []string{"https://jalisco.example/acta.pdf"}}
	got, kind, err := s.UpdateUpdate(ctx, edit)
	if err != nil || kind != Updated {
		t.Fatalf("UpdateUpdate = %s, %v", kind, err)
	}
	if got.ID != first.ID || !got.Created.Equal(first.Created) || !got.Updated.Equal(clk.t) {
		t.Errorf("edited update bookkeeping: %+v (created %v, now %v)", got, first.Created, clk.t)
	}
	stored, err := s.GetUpdate(ctx, first.ID)
	if err != nil || !stored.SameContent(edit) || !stored.Updated.Equal(clk.t) || !stored.Created.Equal(first.Created) || stored.Deleted {
		t.Errorf("stored after edit = %+v, %v", stored, err)
	}
	// The commitment keeps its state: edits never re-derive it.
	if after, _ := s.GetCommitment(ctx, "JAL0001"); !after.SameContent(before) || !after.Updated.Equal(before.Updated) {
		t.Errorf("editing an update changed the commitment: %+v", after)
	}

	// The same content again writes nothing.
	clk.t = clk.t.Add(time.Hour)
	if _, kind, err := s.UpdateUpdate(ctx, edit); err != nil || kind != Unchanged {
		t.Errorf("unchanged edit = %s, %v", kind, err)
	}
	if u, _ := s.GetUpdate(ctx, first.ID); !u.Updated.Equal(stored.Updated) {
		t.Errorf("an unchanged edit bumped updated: %v → %v", stored.Updated, u.Updated)
	}
	// A real edit within the same millisecond is still newer.
	edit.Text = plan.NewText("es", "tercera versión")
	again, _, err := s.UpdateUpdate(ctx, edit)
	if err != nil {
		t.Fatal(err)
	}
	edit.Text = plan.NewText("es", "cuarta versión")
	fourth, _, err := s.UpdateUpdate(ctx, edit)
	if err != nil || !fourth.Updated.After(again.Updated) {
		t.Errorf("updated did not move on within one millisecond: %v then %v (%v)", again.Updated, fourth.Updated, err)
	}

	// Refused edits store nothing.
	bad := edit
	bad.MilestoneChanges = []plan.MilestoneChange{{MilestoneID: "9", Status: ogp.MilestoneComplete}}
	bad.Text = plan.Text{}
	var ve *plan.ValidationError
	if _, _, err := s.UpdateUpdate(ctx, bad); !errors.As(err, &ve) || len(ve.Fields) != 2 {
		t.Errorf("invalid edit: %v", err)
	}
	other := edit
	other.CommitmentID = "JAL0002"
	if _, _, err := s.UpdateUpdate(ctx, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("edit through another commitment: %v", err)
	}
	unknown := edit
	unknown.ID = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"
	if _, _, err := s.UpdateUpdate(ctx, unknown); !errors.Is(err, ErrNotFound) {
		t.Errorf("edit of an unknown update: %v", err)
	}
	if u, _ := s.GetUpdate(ctx, first.ID); u.Text.Get("es") != "cuarta versión" {
		t.Errorf("a refused edit was stored: %+v", u)
	}

	// Delete the newest update: soft, dated, and out of every listing.
	clk.t = clk.t.Add(time.Hour)
	del, err := s.DeleteUpdate(ctx, second.ID)
	if err != nil || !del.Deleted || !del.DeletedAt.Equal(clk.t) {
		t.Fatalf("DeleteUpdate = %+v, %v", del, err)
	}
	if u, err := s.GetUpdate(ctx, second.ID); err != nil || !u.Deleted || !u.DeletedAt.Equal(clk.t) || u.Text.Get("es") != "segundo" {
		t.Errorf("GetUpdate of a deleted update = %+v, %v", u, err)
	}
	if list, err := s.ListUpdates(ctx, "JAL0001", 0); err != nil || len(list) != 1 || list[0].ID != first.ID {
		t.Errorf("ListUpdates after delete = %+v, %v", list, err)
	}
	// The limit counts live updates: the newest live one, not the deleted one.
	if list, err := s.ListUpdates(ctx, "JAL0001", 1); err != nil || len(list) != 1 || list[0].ID != first.ID {
		t.Errorf("ListUpdates limit 1 after delete = %+v, %v", list, err)
	}
	if after, _ := s.GetCommitment(ctx, "JAL0001"); !after.SameContent(before) || !after.Updated.Equal(before.Updated) {
		t.Errorf("deleting an update changed the commitment: %+v", after)
	}
	// Deleting again changes nothing; editing a deleted update is refused.
	clk.t = clk.t.Add(time.Hour)
	if again, err := s.DeleteUpdate(ctx, second.ID); err != nil || !again.DeletedAt.Equal(del.DeletedAt) {
		t.Errorf("second delete = %+v, %v", again, err)
	}
	if _, _, err := s.UpdateUpdate(ctx, plan.ProgressUpdate{ID: second.ID, CommitmentID: "JAL0001", Date: "2017-04-01", Text: plan.NewText("es", "revivido")}); !errors.Is(err, ErrDeleted) {
		t.Errorf("edit of a deleted update: %v", err)
	}
	if _, err := s.DeleteUpdate(ctx, "01ZZZZZZZZZZZZZZZZZZZZZZZZ"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of an unknown update: %v", err)
	}

	// Updates of a withdrawn commitment cannot be edited.
	if _, err := s.DeleteCommitment(ctx, "JAL0001"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateUpdate(ctx, edit); !errors.Is(err, ErrNotFound) {
		t.Errorf("edit on a withdrawn commitment: %v", err)
	}
}
