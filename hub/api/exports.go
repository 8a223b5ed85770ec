package api

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// CSVColumns are the export's columns, in order. They are a stable contract
// (docs/exports.md): columns are only ever appended, never renamed or moved.
var CSVColumns = []string{
	"id", "pilot", "pilot_name", "identifier", "name", "url",
	"action_plan", "plan_name", "period_start", "period_end", "jurisdiction",
	"start_date", "end_date", "lead_institution", "other_actors_government", "other_actors_civil_society",
	"themes", "values", "taxonomy", "completion", "starred",
	"irm_verifiable", "irm_potential_impact", "irm_starred", "irm_did_it_open_government",
	"milestones_total", "milestones_complete", "milestones_complete_late", "milestones_on_track",
	"milestones_overdue", "milestones_cancelled",
	"updates", "last_update", "published", "updated",
	"summary", "description", "problem", "objective", "name_translations",
}

// listSep joins list cells (themes, values, actors); it does not occur in them
// in practice and is documented.
const listSep = "; "

// startExport reads the filter before the first byte is written, so a bad
// filter is a 400, then starts a 200 attachment of the given type.
func startExport(c echo.Context, contentType, filename string) (readmodel.Filter, *echo.Response, error) {
	f, err := filterOf(c.QueryParams())
	if err != nil {
		return f, nil, err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, contentType)
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	res.WriteHeader(http.StatusOK)
	return f, res, nil
}

// eachExported calls fn with every commitment matching f, in pages of
// MaxLimit, until fn fails.
func (h *handlers) eachExported(f readmodel.Filter, fn func(readmodel.Commitment) error) error {
	var cursor string
	for {
		page, err := h.Model.Commitments(f, cursor, readmodel.MaxLimit)
		if err != nil {
			return err
		}
		for _, cm := range page.Items {
			if err := fn(cm); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		cursor = page.Next
	}
}

// Once the header is out, errors can no longer change the status: the
// export handlers stop writing and return nil (the client went away).

func (h *handlers) exportCSV(c echo.Context) error {
	f, res, err := startExport(c, "text/csv; charset=utf-8", "commitments.csv")
	if err != nil {
		return err
	}
	w := csv.NewWriter(res)
	if err := w.Write(CSVColumns); err != nil {
		return nil
	}
	_ = h.eachExported(f, func(cm readmodel.Commitment) error {
		return w.Write(CSVRow(cm))
	})
	w.Flush()
	return nil
}

// CSVRow renders one commitment as the CSVColumns cells.
func CSVRow(cm readmodel.Commitment) []string {
	irm := [4]string{}
	if cm.IRM != nil {
		irm = [4]string{string(cm.IRM.Verifiable), string(cm.IRM.PotentialImpact), string(cm.IRM.Starred), string(cm.IRM.DidItOpenGovernment)}
	}
	values := make([]string, len(cm.Values))
	for i, v := range cm.Values {
		values[i] = string(v)
	}
	trans, _ := json.Marshal(cm.Name.Map)
	if len(cm.Name.Map) == 0 {
		trans = []byte("{}")
	}
	m := cm.MilestoneCounts
	row := []string{
		cm.ID, cm.Pilot, text(cm.PilotName), text(cm.Identifier), text(cm.Name.Default), cm.URL,
		cm.ActionPlan, text(cm.PlanName), string(cm.Period.Start), string(cm.Period.End), text(cm.Jurisdiction),
		string(cm.StartDate), string(cm.EndDate), text(cm.LeadInstitution),
		text(strings.Join(cm.OtherActors.Government, listSep)), text(strings.Join(cm.OtherActors.CivilSociety, listSep)),
		text(strings.Join(cm.Themes, listSep)), strings.Join(values, listSep), text(cm.Taxonomy), string(cm.Completion), strconv.FormatBool(cm.Starred),
		irm[0], irm[1], irm[2], irm[3],
		itoa(m.Total), itoa(m.Complete), itoa(m.CompleteLate), itoa(m.OnTrack), itoa(m.Overdue), itoa(m.Cancelled),
		itoa(cm.Updates), ts(cm.LastUpdate), ts(cm.Published), ts(cm.Updated),
		text(readmodel.HTMLText(string(cm.SummaryHTML.Default))), text(readmodel.HTMLText(string(cm.ContentHTML.Default))),
		text(cm.Problem.Default), text(cm.Objective.Default), text(string(trans)),
	}
	return row
}

func itoa(n int) string { return strconv.Itoa(n) }

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// text defuses spreadsheet formula injection (OWASP "CSV injection"): a
// free-text cell that a spreadsheet would evaluate gets a leading quote.
// Identifiers, IRIs, dates and enums never start with these characters.
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportJSON streams {"items": [...], "total": n} with every commitment
// field and its progress timeline.
func (h *handlers) exportJSON(c echo.Context) error {
	f, res, err := startExport(c, "application/json; charset=utf-8", "commitments.json")
	if err != nil {
		return err
	}
	_, _ = res.Write([]byte(`{"items":[`))
	n := 0
	_ = h.eachExported(f, func(cm readmodel.Commitment) error {
		type withTimeline struct {
			CommitmentJSON
			Timeline []UpdateJSON `json:"timeline"`
		}
		item := withTimeline{CommitmentJSON: ToCommitment(cm), Timeline: []UpdateJSON{}}
		for _, u := range h.Model.Timeline(cm.ID) {
			item.Timeline = append(item.Timeline, ToUpdate(u))
		}
		b, err := json.Marshal(item)
		if err != nil {
			return err
		}
		if n > 0 {
			_, _ = res.Write([]byte(","))
		}
		n++
		_, err = res.Write(b)
		return err
	})
	_, _ = res.Write([]byte(`],"total":` + strconv.Itoa(n) + "}\n"))
	return nil
}
