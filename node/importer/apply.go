package importer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/planstore"
)

// Store is what the importer needs of the node's storage; *planstore.Store
// implements it.
type Store interface {
	GetPlan(ctx context.Context, id string) (plan.ActionPlan, error)
	PutPlan(ctx context.Context, p plan.ActionPlan) (planstore.ChangeKind, error)
	GetCommitment(ctx context.Context, id string) (plan.Commitment, error)
	UpsertCommitment(ctx context.Context, c plan.Commitment) (plan.Commitment, planstore.ChangeKind, error)
	HasUpdate(ctx context.Context, commitmentID string, same func(plan.ProgressUpdate) bool) (bool, error)
	RecordUpdate(ctx context.Context, u plan.ProgressUpdate) (plan.ProgressUpdate, error)
	GetUpdate(ctx context.Context, id string) (plan.ProgressUpdate, error)
}

var _ Store = (*planstore.Store)(nil)

// BatchStore is a Store that writes many commitments in one go (fewer
// round trips and transactions); Steps.Apply uses it when it can.
type BatchStore interface {
	UpsertCommitments(ctx context.Context, cs []plan.Commitment) ([]planstore.CommitmentChange, error)
}

var _ BatchStore = (*planstore.Store)(nil)

// Action is what an import would do with one entry.
type Action string

// Actions.
const (
	ActionCreate    Action = "create"
	ActionUpdate    Action = "update"
	ActionUnchanged Action = "unchanged"
	ActionError     Action = "error"
)

// RowReport is the dry-run verdict on one entry.
type RowReport struct {
	Source string     `json:"source"`
	Row    int        `json:"row,omitempty"`
	ID     string     `json:"id,omitempty"`
	Action Action     `json:"action"`
	Errors []RowError `json:"errors,omitempty"`
}

// Report is the dry-run result of a whole batch.
type Report struct {
	Plan        *RowReport  `json:"plan,omitempty"`
	Commitments []RowReport `json:"commitments"`
	Updates     []RowReport `json:"progressUpdates,omitempty"`
	// Errors lists every problem, file-level ones included.
	Errors []RowError `json:"errors,omitempty"`
}

// OK reports whether the batch can be committed.
func (r Report) OK() bool { return len(r.Errors) == 0 }

// Count returns how many commitments would get action a.
func (r Report) Count(a Action) int {
	n := 0
	for _, c := range r.Commitments {
		if c.Action == a {
			n++
		}
	}
	return n
}

// ErrInvalid is returned by Commit when the batch has errors; nothing was
// written. The Report says which.
var ErrInvalid = errors.New("import has errors; nothing was written")

// Change is one commitment written (or found unchanged) by Commit, for the
// publishing layer: Created → federate a Create, Updated → an Update,
// Unchanged → nothing.
type Change struct {
	Kind       planstore.ChangeKind
	Commitment plan.Commitment
}

// PlanChange is the plan written by Commit.
type PlanChange struct {
	Kind planstore.ChangeKind
	Plan plan.ActionPlan
}

// UpdateChange is a progress update recorded by Commit, with the
// commitment it belongs to (for its Note's text and IRIs).
type UpdateChange struct {
	Update     plan.ProgressUpdate
	Commitment plan.Commitment
}

// Result is everything Commit wrote.
type Result struct {
	Plan        *PlanChange
	Commitments []Change
	Updates     []UpdateChange
}

// checked is DryRun's working state, reused by Commit so that what is
// written is exactly what was checked.
type checked struct {
	report   Report
	existing map[string]plan.Commitment // stored commitments by id
}

// DryRun checks the batch against the store without writing: validation
// (against the plan, which must be in the batch or already stored), and per
// entry whether it would be created, updated or left unchanged. The error
// is for store failures only; problems with the data are in the Report.
func DryRun(ctx context.Context, st Store, b *Batch) (Report, error) {
	c, err := check(ctx, st, b)
	return c.report, err
}

// check is DryRun's work, in three steps: the plan (checkPlan), each
// commitment (checkCommitment), then each progress update (checkUpdate).
// Each step validates its entry, decides its action from what is stored,
// and records both in the report.
func check(ctx context.Context, st Store, b *Batch) (checked, error) {
	k := newChecker(ctx, st, b)
	if b.Plan != nil {
		if err := k.checkPlan(*b.Plan); err != nil {
			return k.checked, err
		}
	}
	for _, row := range b.Rows {
		if err := k.checkCommitment(row); err != nil {
			return k.checked, err
		}
	}
	for _, ur := range b.Updates {
		if err := k.checkUpdate(ur); err != nil {
			return k.checked, err
		}
	}
	// Parse errors of rows that never became entries (e.g. a duplicate id)
	// are in the report's errors already; that alone blocks Commit.
	return k.checked, nil
}

// checker is the working state of one check.
type checker struct {
	checked
	ctx       context.Context
	st        Store
	b         *Batch
	parseErrs map[string]bool             // source/row/column already reported while parsing
	plans     map[string]*plan.ActionPlan // by id: the batch's plan, stored ones looked up, nil = none
	inBatch   map[string]plan.Commitment  // the batch's commitments by id
	seen      map[string][]UpdateRow      // the batch's progress updates so far, by commitment
}

func newChecker(ctx context.Context, st Store, b *Batch) *checker {
	k := &checker{checked: checked{existing: map[string]plan.Commitment{}}, ctx: ctx, st: st, b: b,
		parseErrs: map[string]bool{}, plans: map[string]*plan.ActionPlan{}, inBatch: map[string]plan.Commitment{},
		seen: map[string][]UpdateRow{}}
	k.report.Commitments = []RowReport{}
	k.report.Errors = append(k.report.Errors, b.Errors...)
	for _, e := range b.Errors {
		k.parseErrs[errKey(e)] = true
	}
	return k
}

// add records errs against entry rr and the whole report, except those a
// parse error already explains (it says why the value is empty).
func (k *checker) add(rr *RowReport, errs ...RowError) {
	for _, e := range errs {
		if k.parseErrs[errKey(e)] {
			continue
		}
		k.report.Errors = append(k.report.Errors, e)
		rr.Errors = append(rr.Errors, e)
	}
}

// parseErrorsOf attaches to rr the parse errors of its row in source (and,
// for a CSV commitment, of its milestones' rows).
func (k *checker) parseErrorsOf(rr *RowReport, source string, milestoneRows []int) {
	for _, e := range k.b.Errors {
		switch {
		case e.Source == source && (source == SourcePlan || e.Row == rr.Row):
			rr.Errors = append(rr.Errors, e)
		case e.Source == SourceMilestones && slices.Contains(milestoneRows, e.Row):
			rr.Errors = append(rr.Errors, e)
		}
	}
}

// actionOf is the action for an entry whose stored counterpart was looked
// up with err: unchanged or update when it is stored (and live), create
// when not (or withdrawn: it is restored); any other error is the store's.
func actionOf(err error, live, same bool) (Action, error) {
	switch {
	case err == nil && live && same:
		return ActionUnchanged, nil
	case err == nil && live:
		return ActionUpdate, nil
	case err == nil || errors.Is(err, planstore.ErrNotFound):
		return ActionCreate, nil
	}
	return "", err
}

// finish marks an entry with errors as such and files its report.
func finish(rr RowReport, into *[]RowReport) RowReport {
	if len(rr.Errors) > 0 {
		rr.Action = ActionError
	}
	if into != nil {
		*into = append(*into, rr)
	}
	return rr
}

// checkPlan validates the batch's plan and decides its action.
func (k *checker) checkPlan(p plan.ActionPlan) error {
	rr := RowReport{Source: SourcePlan, ID: p.ID}
	k.parseErrorsOf(&rr, SourcePlan, nil)
	p.StripBidi() // as the store will: the dry run's verdicts match the commit's
	if err := p.Validate(); err != nil {
		k.add(&rr, fieldErrors(k.b, SourcePlan, 0, nil, err)...)
	}
	old, err := k.st.GetPlan(k.ctx, p.ID)
	if rr.Action, err = actionOf(err, true, err == nil && old.SameContent(p)); err != nil {
		return err
	}
	rr = finish(rr, nil)
	k.report.Plan = &rr
	k.plans[p.ID] = &p
	return nil
}

// lookupPlan returns plan id from the batch or the store, nil when there
// is none.
func (k *checker) lookupPlan(id string) (*plan.ActionPlan, error) {
	if p, ok := k.plans[id]; ok {
		return p, nil
	}
	p, err := k.st.GetPlan(k.ctx, id)
	if errors.Is(err, planstore.ErrNotFound) {
		k.plans[id] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	k.plans[id] = &p
	return &p, nil
}

// checkCommitment validates a commitment against its plan (which must be
// in the batch or stored) and decides its action.
func (k *checker) checkCommitment(row Row) error {
	c := row.Commitment
	c.StripBidi()
	rr := RowReport{Source: SourceCommitments, Row: row.Row, ID: c.ID}
	k.parseErrorsOf(&rr, SourceCommitments, row.MilestoneRows)
	p, err := k.lookupPlan(c.PlanID)
	if err != nil {
		return err
	}
	var verr error
	if p != nil {
		verr = c.ValidateFor(*p)
	} else {
		if c.PlanID != "" {
			k.add(&rr, RowError{Source: SourceCommitments, Row: row.Row, Column: column(k.b, "planId"),
				Message: fmt.Sprintf("plan %q does not exist on this node: create it first (or include it in a JSON import)", c.PlanID)})
		}
		verr = c.Validate()
	}
	if verr != nil {
		k.add(&rr, fieldErrors(k.b, SourceCommitments, row.Row, row.MilestoneRows, verr)...)
	}
	old, err := k.st.GetCommitment(k.ctx, c.ID)
	live := err == nil && !old.Deleted
	if rr.Action, err = actionOf(err, live, live && old.SameContent(c)); err != nil {
		return err
	}
	if live {
		k.existing[c.ID] = old
	}
	k.inBatch[c.ID] = c
	finish(rr, &k.report.Commitments)
	return nil
}

// checkUpdate validates a progress update against its commitment (in the
// batch or stored and live) and decides its action: create, or unchanged
// when the same update is stored already; the same update twice in the
// batch is an error.
func (k *checker) checkUpdate(ur UpdateRow) error {
	u := ur.Update
	u.StripBidi()
	rr := RowReport{Source: SourceUpdates, Row: ur.Row, ID: u.CommitmentID, Action: ActionCreate}
	k.parseErrorsOf(&rr, SourceUpdates, nil)
	c, ok := k.inBatch[u.CommitmentID]
	if !ok {
		old, err := k.st.GetCommitment(k.ctx, u.CommitmentID)
		switch {
		case err == nil && !old.Deleted:
			c, ok = old, true
		case err == nil || errors.Is(err, planstore.ErrNotFound):
		default:
			return err
		}
	}
	if !ok {
		k.add(&rr, RowError{Source: SourceUpdates, Row: ur.Row, Column: "commitmentId",
			Message: fmt.Sprintf("commitment %q is neither in this import nor on this node", truncate(u.CommitmentID, 40))})
	} else if err := u.ValidateFor(c); err != nil {
		k.add(&rr, fieldErrors(k.b, SourceUpdates, ur.Row, nil, err)...)
	}
	for _, prev := range k.seen[u.CommitmentID] {
		if sameUpdate(prev.Update, u) {
			k.add(&rr, RowError{Source: SourceUpdates, Row: ur.Row, Message: fmt.Sprintf("same commitment, date and text as entry %d", prev.Row)})
		}
	}
	k.seen[u.CommitmentID] = append(k.seen[u.CommitmentID], ur)
	if ok {
		stored, err := k.st.HasUpdate(k.ctx, u.CommitmentID, func(s plan.ProgressUpdate) bool { return sameUpdate(s, u) })
		if err != nil {
			return err
		}
		if stored {
			rr.Action = ActionUnchanged
		}
	}
	finish(rr, &k.report.Updates)
	return nil
}

// sameUpdate is the identity of an imported update: progress updates have
// no id in a file, so re-importing one is recognised by commitment, date
// and text.
func sameUpdate(a, b plan.ProgressUpdate) bool {
	return a.CommitmentID == b.CommitmentID && a.Date == b.Date && a.Text.Equal(b.Text)
}

func errKey(e RowError) string { return fmt.Sprintf("%s/%d/%s", e.Source, e.Row, e.Column) }

// Commit checks the batch as DryRun does and, only if there is no error
// at all, writes it: the plan, then each commitment (created, updated, or
// left alone when unchanged, so re-importing never duplicates), then the
// progress updates not yet stored, oldest first. Imported updates are
// recorded as history and not re-applied: the file states each
// commitment's current completion and milestones itself.
//
// With errors, nothing is written and the error is ErrInvalid. A store
// failure part-way returns what was written so far; since every write is
// keyed and idempotent, running the same import again completes it. The
// node runs imports as jobs instead (Check, NewSteps, Steps.Apply), which
// resume by themselves after a crash.
func Commit(ctx context.Context, st Store, b *Batch) (Result, Report, error) {
	rep, err := Check(ctx, st, b)
	if err != nil {
		return Result{}, rep, err
	}
	if !rep.OK() {
		return Result{}, rep, fmt.Errorf("%w (%d problems)", ErrInvalid, len(rep.Errors))
	}
	steps := NewSteps(b, rep)
	res, err := steps.Apply(ctx, st, 0, steps.Len(), nil)
	return res, rep, err
}

// Check is DryRun: the report says whether (and what) the batch would
// write.
func Check(ctx context.Context, st Store, b *Batch) (Report, error) { return DryRun(ctx, st, b) }

// Steps are the writes of a checked batch, in order: the plan (when it is
// new or changed), every commitment row, then the progress updates not yet
// stored, oldest first. They are computed from the batch and its report
// alone, so a job that stopped part-way computes the same steps again from
// its stored file and report and carries on where it stopped.
type Steps struct {
	b    *Batch
	list []step
}

type step struct {
	kind  stepKind
	index int // into Batch.Rows or Batch.Updates
}

type stepKind uint8

const (
	stepPlan stepKind = iota
	stepCommitment
	stepUpdate
)

// NewSteps lists the writes of b, checked with report rep (which must be
// OK).
func NewSteps(b *Batch, rep Report) *Steps {
	s := &Steps{b: b}
	if b.Plan != nil && rep.Plan != nil && rep.Plan.Action != ActionUnchanged {
		s.list = append(s.list, step{kind: stepPlan})
	}
	for i := range b.Rows {
		s.list = append(s.list, step{kind: stepCommitment, index: i})
	}
	var todo []int
	for i := range b.Updates {
		if i < len(rep.Updates) && rep.Updates[i].Action == ActionCreate {
			todo = append(todo, i)
		}
	}
	// Oldest first, so the sortable ids follow the dates.
	slices.SortStableFunc(todo, func(x, y int) int { return cmp.Compare(b.Updates[x].Update.Date, b.Updates[y].Update.Date) })
	for _, i := range todo {
		s.list = append(s.list, step{kind: stepUpdate, index: i})
	}
	return s
}

// Len is the number of steps.
func (s *Steps) Len() int { return len(s.list) }

// Apply runs steps [from, to) and returns what they wrote. Each step is
// idempotent: the plan and commitments are upserts that leave equal
// content alone, and progress update k (counting from 0 among the
// updates) is stored under updateID(k) when updateID is given, so running
// a step again after a crash writes nothing twice. Without updateID, new
// ids are generated.
func (s *Steps) Apply(ctx context.Context, st Store, from, to int, updateID func(k int) string) (Result, error) {
	var res Result
	firstUpdate := slices.IndexFunc(s.list, func(x step) bool { return x.kind == stepUpdate })
	for i := from; i < to && i < len(s.list); i++ {
		switch x := s.list[i]; x.kind {
		case stepPlan:
			kind, err := st.PutPlan(ctx, *s.b.Plan)
			if err != nil {
				return res, err
			}
			res.Plan = &PlanChange{Kind: kind, Plan: *s.b.Plan}
		case stepCommitment:
			if bs, ok := st.(BatchStore); ok {
				// This and the following commitment steps in one write.
				var cs []plan.Commitment
				for ; i < to && i < len(s.list) && s.list[i].kind == stepCommitment; i++ {
					cs = append(cs, s.b.Rows[s.list[i].index].Commitment)
				}
				i--
				chs, err := bs.UpsertCommitments(ctx, cs)
				if err != nil {
					return res, err
				}
				for _, ch := range chs {
					res.Commitments = append(res.Commitments, Change{Kind: ch.Kind, Commitment: ch.Commitment})
				}
				continue
			}
			c, kind, err := st.UpsertCommitment(ctx, s.b.Rows[x.index].Commitment)
			if err != nil {
				return res, err
			}
			res.Commitments = append(res.Commitments, Change{Kind: kind, Commitment: c})
		case stepUpdate:
			u := s.b.Updates[x.index].Update
			if updateID != nil {
				u.ID = updateID(i - firstUpdate)
				// Written before a crash: not again, and not reported (the
				// node's reconcile publishes it if it never went out).
				if _, err := st.GetUpdate(ctx, u.ID); err == nil {
					continue
				}
			}
			u, err := st.RecordUpdate(ctx, u)
			if err != nil {
				return res, err
			}
			c, err := st.GetCommitment(ctx, u.CommitmentID)
			if err != nil {
				return res, err
			}
			res.Updates = append(res.Updates, UpdateChange{Update: u, Commitment: c})
		}
	}
	return res, nil
}

// fieldErrors turns a validation error into row errors named the way the
// input names things: CSV columns for CSV, JSON paths for JSON, and the
// milestones CSV row for a milestone's fields.
func fieldErrors(b *Batch, source string, row int, milestoneRows []int, err error) []RowError {
	var ve *plan.ValidationError
	if !errors.As(err, &ve) {
		return []RowError{{Source: source, Row: row, Message: err.Error()}}
	}
	var out []RowError
	for _, f := range ve.Fields {
		e := RowError{Source: source, Row: row, Column: column(b, f.Field), Message: f.Message}
		if rest, i, ok := milestoneField(f.Field); ok && b.Format == FormatCSV && i < len(milestoneRows) {
			e = RowError{Source: SourceMilestones, Row: milestoneRows[i], Column: milestoneColumn(b, rest), Message: f.Message}
		}
		out = append(out, e)
	}
	return out
}

// milestoneField splits "milestones[3].end" into ("end", 3).
func milestoneField(field string) (string, int, bool) {
	var i int
	var rest string
	if !strings.HasPrefix(field, "milestones[") {
		return "", 0, false
	}
	if _, err := fmt.Sscanf(field, "milestones[%d]", &i); err != nil {
		return "", 0, false
	}
	_, rest, _ = strings.Cut(field, "].")
	return rest, i, true
}

var csvColumnOf = map[string]string{
	"id": "id", "planId": "plan_id", "title": "title", "startDate": "start_date", "endDate": "end_date",
	"leadInstitution": "lead_institution", "otherActors.government": "other_government",
	"otherActors.civilSociety": "other_civil_society", "problem": "problem", "objective": "objective",
	"description": "description", "values": "values", "policyAreas": "policy_areas", "completion": "completion",
	"irm.verifiable": "irm_verifiable", "irm.potentialImpact": "irm_potential_impact",
	"irm.starred": "irm_starred", "irm.didItOpenGovernment": "irm_did_it_open_government",
	"milestones": "milestone_id",
}

var csvMilestoneColumnOf = map[string]string{
	"id": "milestone_id", "title": "title", "deliverable": "deliverable", "start": "start_date",
	"end": "end_date", "status": "status", "completedOn": "completed_on",
}

// column names a domain field path the way the input does.
func column(b *Batch, field string) string {
	if b.Format != FormatCSV {
		return field // JSON entries are in the public shape (jsonshape)
	}
	return csvName(field, csvColumnOf, b.Lang)
}

func milestoneColumn(b *Batch, field string) string {
	return csvName(field, csvMilestoneColumnOf, b.Lang)
}

// csvName maps "title.en" → "title:en" (or "title" in the file's language)
// and "values[2]" → "values".
func csvName(field string, table map[string]string, lang string) string {
	base, _, _ := strings.Cut(field, "[")
	name, sub, hasSub := strings.Cut(base, ".")
	if col, ok := table[base]; ok {
		return col
	}
	if col, ok := table[name]; ok && hasSub {
		if sub == lang {
			return col
		}
		return col + ":" + sub
	}
	return field
}
