package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/node/importer"
	"github.com/ogpnet/ogpnet/node/planstore"
)

// ImportReport is the outcome of an import or a dry run: per row what
// happens (or would happen), every problem found, and the counts.
type ImportReport struct {
	DryRun bool `json:"dryRun"`
	// Committed is true when the import was written (never for a dry run,
	// never when there are errors).
	Committed bool `json:"committed"`
	importer.Report
	Created      int `json:"created"`
	Updated      int `json:"updated"`
	Unchanged    int `json:"unchanged"`
	UpdatesAdded int `json:"progressUpdatesAdded"`
}

// HasErrors reports whether the input had any problem (then nothing was
// written).
func (r ImportReport) HasErrors() bool { return len(r.Errors) > 0 }

// Summary is a one-line account for logs and CLIs.
func (r ImportReport) Summary() string {
	verb := "imported"
	if r.DryRun {
		verb = "dry run"
	}
	s := fmt.Sprintf("%s: %d created, %d updated, %d unchanged, %d progress updates added", verb, r.Created, r.Updated, r.Unchanged, r.UpdatesAdded)
	if r.HasErrors() {
		msgs := make([]string, 0, 3)
		for i, e := range r.Errors {
			if i == 3 {
				msgs = append(msgs, "…")
				break
			}
			msgs = append(msgs, e.Error())
		}
		s += fmt.Sprintf("; %d errors, nothing written: %s", len(r.Errors), strings.Join(msgs, "; "))
	}
	return s
}

// Import reads a CSV or JSON file in the OGP template's columns (see
// docs/import.md), with an optional second CSV file of milestones, and
// either reports what it would do (dryRun) or writes it all-or-nothing and
// publishes Create/Update for every change. The error is for failures of
// the node itself; problems with the file are in the report.
//
// It waits for the write: it runs the same job as SubmitImport, in the
// caller's goroutine (the demo's seeding and other Go callers use it; the
// HTTP API answers at once and lets the job run in the background).
func (s *Service) Import(ctx context.Context, format string, r, milestonesCSV io.Reader, dryRun bool) (ImportReport, error) {
	data, err := readInput(r)
	if err != nil {
		return ImportReport{}, err
	}
	var ms []byte
	if milestonesCSV != nil {
		if ms, err = readInput(milestonesCSV); err != nil {
			return ImportReport{}, err
		}
	}
	if dryRun {
		rep, _, err := s.check(ctx, format, data, ms)
		rep.DryRun = true
		return rep, err
	}
	rep, job, err := s.SubmitImport(ctx, format, data, ms)
	if err != nil || job == nil {
		return rep, err
	}
	if err := s.runJob(ctx, job.ID); err != nil {
		if ctx.Err() != nil {
			s.QueueImport(job.ID) // RunImports finishes it
		}
		return rep, err
	}
	st, err := s.ImportStatus(ctx, job.ID)
	if err != nil {
		return rep, err
	}
	if st.Result == nil {
		return rep, fmt.Errorf("import job %s: %s", job.ID, st.Error)
	}
	return *st.Result, nil
}

// readInput reads one import file, stopping one byte past the importer's
// size limit (which then refuses it with its own message).
func readInput(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, importer.DefaultLimits("").MaxBytes+1))
}

// check parses and validates an import against the node's data: the
// report (with every problem), and the parsed batch when it could be read.
func (s *Service) check(ctx context.Context, format string, data, ms []byte) (ImportReport, *importer.Batch, error) {
	var rep ImportReport
	batch, errs := s.parse(format, data, ms)
	if batch == nil {
		rep.Errors = errs
		if len(rep.Errors) == 0 {
			rep.Errors = []importer.RowError{{Source: importer.SourceFile, Message: "the file could not be read"}}
		}
		return rep, nil, nil
	}
	report, err := importer.Check(ctx, s.store, batch)
	rep.Report = report
	rep.count()
	return rep, batch, err
}

func (s *Service) parse(format string, data, ms []byte) (*importer.Batch, []importer.RowError) {
	limits := importer.DefaultLimits(s.wire.Lang)
	if format == string(importer.FormatCSV) && ms != nil {
		return importer.ParseCSV(bytes.NewReader(data), bytes.NewReader(ms), limits)
	}
	return importer.Parse(importer.Format(strings.ToLower(format)), bytes.NewReader(data), limits)
}

// ImportStatus is an import job as its GET shows it: progress, then the
// result.
type ImportStatus struct {
	planstore.ImportJob
	// Result is the final report, once the job is done.
	Result *ImportReport `json:"result,omitempty"`
}

// Finished reports whether the job has ended (done or failed).
func (st ImportStatus) Finished() bool {
	return st.State == planstore.JobDone || st.State == planstore.JobFailed
}

// SubmitImport validates an import and, when it has no error, stores it as
// a job and queues it: the file and its report first, so a node that stops
// at any point after this returns finishes the job when it starts again
// (RunImports). A report with errors comes back without a job (nothing
// stored); the error is for failures of the node itself.
func (s *Service) SubmitImport(ctx context.Context, format string, data, ms []byte) (ImportReport, *planstore.ImportJob, error) {
	rep, batch, err := s.check(ctx, format, data, ms)
	if err != nil || rep.HasErrors() || batch == nil {
		return rep, nil, err
	}
	raw, err := json.Marshal(rep)
	if err != nil {
		return rep, nil, err
	}
	job := planstore.ImportJob{ID: s.store.NewJobID(), State: planstore.JobQueued,
		Total: importer.NewSteps(batch, rep.Report).Len(), Submitted: s.now().UTC().Truncate(time.Millisecond)}
	f := planstore.ImportFile{Format: format, Data: data, Milestones: ms, Report: raw}
	if err := s.store.CreateImportJob(ctx, job, f); err != nil {
		return rep, nil, err
	}
	return rep, &job, nil
}

// QueueImport hands a submitted job to RunImports.
func (s *Service) QueueImport(id string) {
	s.jobs.mu.Lock()
	s.jobs.pending = append(s.jobs.pending, id)
	s.jobs.mu.Unlock()
	select {
	case s.jobs.wake <- struct{}{}:
	default:
	}
}

// ImportStatus returns job id's progress (an _id lookup), with its result
// once done; ErrNotFound when there is no such job.
func (s *Service) ImportStatus(ctx context.Context, id string) (ImportStatus, error) {
	j, err := s.store.ImportJob(ctx, id)
	if err != nil {
		return ImportStatus{}, err
	}
	st := ImportStatus{ImportJob: j}
	if len(j.Result) > 0 {
		var rep ImportReport
		if err := json.Unmarshal(j.Result, &rep); err == nil {
			st.Result = &rep
		}
	}
	return st, nil
}

// jobQueue is the import jobs waiting for RunImports.
type jobQueue struct {
	mu      sync.Mutex
	pending []string
	wake    chan struct{}
	// run serialises jobs: one import applies at a time.
	run sync.Mutex
}

// RunImports applies queued import jobs one at a time until ctx ends:
// first the jobs a previous run left unfinished (a crash or a stop
// part-way), then each job QueueImport hands over.
func (s *Service) RunImports(ctx context.Context) error {
	var left []planstore.ImportJob
	outage := store.Outage{What: "import jobs", Log: s.log}
	for {
		var err error
		if left, err = s.store.UnfinishedImportJobs(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		outage.Failed(err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(outage.Wait()):
		}
	}
	s.jobs.mu.Lock()
	ids := make([]string, 0, len(left)+len(s.jobs.pending))
	for _, j := range left {
		ids = append(ids, j.ID)
		s.log.Info("import: resuming a job left unfinished", "job", j.ID, "done", j.Done, "total", j.Total)
	}
	s.jobs.pending = append(ids, s.jobs.pending...)
	s.jobs.mu.Unlock()
	for {
		s.jobs.mu.Lock()
		var id string
		if len(s.jobs.pending) > 0 {
			id, s.jobs.pending = s.jobs.pending[0], s.jobs.pending[1:]
		}
		s.jobs.mu.Unlock()
		if id == "" {
			select {
			case <-ctx.Done():
				return nil
			case <-s.jobs.wake:
				continue
			}
		}
		if err := s.runJob(ctx, id); err != nil && ctx.Err() == nil {
			s.log.Error("import job", "job", id, "err", err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// importBatch is how many steps (commitments, progress updates) a job
// applies and publishes between two records of its progress. Other writes
// wait for at most one batch; reads never wait (they are served from
// memory).
const importBatch = 100

// AfterImportBatch, when set (tests), is called after each batch a job
// recorded as done.
var AfterImportBatch func(job planstore.ImportJob)

// runJob applies job id from where it stopped to its end, batch by batch,
// each batch stored, then published, then recorded as done in the job;
// then republishes the plans whose list grew and records the result.
//
// A batch that a crash interrupted is applied again: its writes are
// idempotent (upserts that leave equal content alone; progress updates
// under ids derived from the job's), and what it stored but never
// published is published by the node's reconcile at start. A store that
// goes away pauses the job until it is back or ctx ends (the job then
// resumes at the next start). A write the store refuses for another reason
// (an operator withdrew a commitment the file adds updates to, after the
// file was checked) fails the job where it stands; the job says so.
func (s *Service) runJob(ctx context.Context, id string) error {
	s.jobs.run.Lock()
	defer s.jobs.run.Unlock()
	j, err := s.store.ImportJob(ctx, id)
	if err != nil {
		return err
	}
	if j.State == planstore.JobDone || j.State == planstore.JobFailed {
		return nil
	}
	fail := func(err error) error {
		j.State, j.Error, j.Finished = planstore.JobFailed, err.Error(), s.now().UTC()
		s.log.Error("import job failed", "job", j.ID, "done", j.Done, "total", j.Total, "err", err)
		return s.saveJob(ctx, j)
	}
	f, err := s.store.ImportFileOf(ctx, id)
	if err != nil {
		if store.Unavailable(err) || ctx.Err() != nil {
			return err
		}
		return fail(fmt.Errorf("the job's file is missing: %w", err))
	}
	var rep ImportReport
	if err := json.Unmarshal(f.Report, &rep); err != nil {
		return fail(fmt.Errorf("the job's report cannot be read: %w", err))
	}
	batch, errs := s.parse(f.Format, f.Data, f.Milestones)
	if batch == nil {
		return fail(fmt.Errorf("the job's file no longer parses: %v", errs))
	}
	steps := importer.NewSteps(batch, rep.Report)
	j.Total, j.State = steps.Len(), planstore.JobRunning
	if err := s.saveJob(ctx, j); err != nil {
		return err
	}
	touch := map[string]bool{}
	for _, p := range j.TouchPlans {
		touch[p] = true
	}
	updateID := func(k int) string { return planstore.DerivedID(j.Submitted, j.ID, k) }
	outage := store.Outage{What: "import job", Log: s.log}
	for j.Done < j.Total {
		to := min(j.Done+importBatch, j.Total)
		s.mu.Lock()
		res, err := steps.Apply(ctx, s.store, j.Done, to, updateID)
		// Publish what was written, even after a failure part-way.
		_ = s.publishImportBatch(ctx, res, touch)
		s.mu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !store.Unavailable(err) {
				return fail(err)
			}
			outage.Failed(err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(outage.Wait()):
			}
			continue
		}
		outage.OK()
		j.Done = to
		countBatch(&j, res)
		j.TouchPlans = slices.Sorted(maps.Keys(touch))
		if err := s.saveJob(ctx, j); err != nil {
			return err
		}
		if AfterImportBatch != nil {
			AfterImportBatch(j)
		}
	}
	s.mu.Lock()
	var errsTouch []error
	for _, planID := range j.TouchPlans {
		errsTouch = append(errsTouch, s.touchPlan(ctx, planID))
	}
	s.mu.Unlock()
	if err := errors.Join(errsTouch...); err != nil {
		s.log.Warn("import: republishing plans", "job", j.ID, "err", err)
	}
	rep.Committed = true
	rep.Created, rep.Updated, rep.Unchanged, rep.UpdatesAdded = j.Created, j.Updated, j.Unchanged, j.UpdatesAdded
	if j.Result, err = json.Marshal(rep); err != nil {
		return err
	}
	j.State, j.Finished = planstore.JobDone, s.now().UTC()
	if err := s.saveJob(ctx, j); err != nil {
		return err
	}
	if err := s.store.DropImportFile(ctx, j.ID); err != nil {
		s.log.Warn("import: dropping a finished job's file", "job", j.ID, "err", err)
	}
	return nil
}

// saveJob records a job's progress, retrying while the store is away
// (until ctx ends): progress not recorded is redone, never lost.
func (s *Service) saveJob(ctx context.Context, j planstore.ImportJob) error {
	outage := store.Outage{What: "import job", Log: s.log}
	for {
		err := s.store.SaveImportJob(ctx, j)
		if err == nil || ctx.Err() != nil || !store.Unavailable(err) {
			return err
		}
		outage.Failed(err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(outage.Wait()):
		}
	}
}

// countBatch adds a batch's changes to the job's counts.
func countBatch(j *planstore.ImportJob, res importer.Result) {
	j.UpdatesAdded += len(res.Updates)
	for _, c := range res.Commitments {
		switch c.Kind {
		case planstore.Created:
			j.Created++
		case planstore.Updated:
			j.Updated++
		default:
			j.Unchanged++
		}
	}
}

// count fills the counts from the per-row verdicts.
func (r *ImportReport) count() {
	r.Created = r.Count(importer.ActionCreate)
	r.Updated = r.Count(importer.ActionUpdate)
	r.Unchanged = r.Count(importer.ActionUnchanged)
	r.UpdatesAdded = 0
	for _, u := range r.Updates {
		if u.Action == importer.ActionCreate {
			r.UpdatesAdded++
		}
	}
}

// publishImportBatch federates one batch of an import: the plan first (it
// is the first step), then each created or updated commitment, then the
// new progress updates, their outbox entries written in one go. The plans
// whose list grew are added to touch, and republished once at the end of
// the job.
func (s *Service) publishImportBatch(ctx context.Context, res importer.Result, touch map[string]bool) error {
	var errs []error
	if res.Plan != nil && res.Plan.Kind != planstore.Unchanged {
		p, err := s.store.GetPlan(ctx, res.Plan.Plan.ID)
		if err == nil {
			err = s.publishPlan(ctx, p, res.Plan.Kind == planstore.Created)
		}
		errs = append(errs, err)
	}
	var bodies [][]byte
	add := func(typ string, object any) {
		body, err := ogp.NewActivity(typ, s.fed.NewActivityID(), s.fed.ActorID(), object,
			[]string{ogp.Public}, []string{s.fed.FollowersID()}, s.now().UTC())
		if err != nil {
			errs = append(errs, fmt.Errorf("node: build %s: %w", typ, err))
			return
		}
		bodies = append(bodies, body)
	}
	for _, ch := range res.Commitments {
		switch ch.Kind {
		case planstore.Created:
			add(ogp.ActivityCreate, s.wire.Commitment(ch.Commitment))
			touch[ch.Commitment.PlanID] = true
		case planstore.Updated:
			add(ogp.ActivityUpdate, s.wire.Commitment(ch.Commitment))
		}
	}
	for _, u := range res.Updates {
		add(ogp.ActivityCreate, s.wire.ProgressUpdate(u.Update, u.Commitment))
	}
	// Stored already: publish even if the job's context ends now.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := s.fed.PublishAll(pctx, bodies); err != nil {
		// Reconcile publishes what did not go out.
		s.unpublished.Store(true)
		errs = append(errs, fmt.Errorf("node: publish an import batch: %w", err))
	}
	return errors.Join(errs...)
}
