package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
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
func (s *Service) Import(ctx context.Context, format string, r, milestonesCSV io.Reader, dryRun bool) (ImportReport, error) {
	rep := ImportReport{DryRun: dryRun}
	limits := importer.DefaultLimits(s.wire.Lang)
	var batch *importer.Batch
	var errs []importer.RowError
	switch {
	case format == string(importer.FormatCSV) && milestonesCSV != nil:
		batch, errs = importer.ParseCSV(r, milestonesCSV, limits)
	default:
		batch, errs = importer.Parse(importer.Format(strings.ToLower(format)), r, limits)
	}
	if batch == nil {
		rep.Errors = errs
		if len(rep.Errors) == 0 {
			rep.Errors = []importer.RowError{{Source: importer.SourceFile, Message: "the file could not be read"}}
		}
		return rep, nil
	}
	if dryRun {
		report, err := importer.DryRun(ctx, s.store, batch)
		rep.Report = report
		rep.count()
		return rep, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	// Once the commit starts it runs to the end with its publishing, even if
	// the request goes away: a half-written, half-published import would
	// leave rows that a re-run reports unchanged and never federates.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), importTimeout)
	defer cancel()
	res, report, err := importer.Commit(ctx, s.store, batch)
	rep.Report = report
	if errors.Is(err, importer.ErrInvalid) {
		rep.count()
		return rep, nil
	}
	// Publish what was written, even after a store failure part-way: those
	// writes are real, and re-running the import completes the rest.
	perr := s.publishImport(ctx, res)
	if err != nil {
		return rep, err
	}
	rep.Committed = true
	rep.count()
	rep.Created, rep.Updated, rep.Unchanged, rep.UpdatesAdded = 0, 0, 0, len(res.Updates)
	for _, c := range res.Commitments {
		switch c.Kind {
		case planstore.Created:
			rep.Created++
		case planstore.Updated:
			rep.Updated++
		default:
			rep.Unchanged++
		}
	}
	return rep, perr
}

// importTimeout bounds one import's commit and publishing.
const importTimeout = 10 * time.Minute

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

// publishImport federates an import's changes: the plan first (so the
// commitments' ogp:actionPlan resolves, and it lists them all, since they
// are already stored), then each created or updated commitment, then the
// new progress updates. Plans whose list grew are touched once at the end.
func (s *Service) publishImport(ctx context.Context, res importer.Result) error {
	// Every change is stored already: one failure must not keep the rest
	// from being published, so errors are collected, not returned early.
	var errs []error
	published := map[string]bool{}
	if res.Plan != nil && res.Plan.Kind != planstore.Unchanged {
		p, err := s.store.GetPlan(ctx, res.Plan.Plan.ID)
		if err == nil {
			err = s.publishPlan(ctx, p, res.Plan.Kind == planstore.Created)
		}
		if err != nil {
			errs = append(errs, err)
		} else {
			published[p.ID] = true
		}
	}
	touch := map[string]bool{}
	for _, ch := range res.Commitments {
		switch ch.Kind {
		case planstore.Created:
			errs = append(errs, s.publish(ctx, ogp.ActivityCreate, s.wire.Commitment(ch.Commitment)))
			touch[ch.Commitment.PlanID] = true
		case planstore.Updated:
			errs = append(errs, s.publish(ctx, ogp.ActivityUpdate, s.wire.Commitment(ch.Commitment)))
		}
	}
	for _, u := range res.Updates {
		errs = append(errs, s.publish(ctx, ogp.ActivityCreate, s.wire.ProgressUpdate(u.Update, u.Commitment)))
	}
	for planID := range touch {
		if !published[planID] {
			errs = append(errs, s.touchPlan(ctx, planID))
		}
	}
	return errors.Join(errs...)
}
