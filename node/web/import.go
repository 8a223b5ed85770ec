package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/importer"
	"github.com/ogpnet/ogpnet/node/planstore"
	"github.com/ogpnet/ogpnet/node/service"
)

// MaxImportBytes caps one uploaded file (the importer has its own, equal
// limit; this one stops reading early).
const MaxImportBytes = 5 << 20

// importBodyLimit is the request cap of the import routes: two files of
// MaxImportBytes plus the multipart envelope.
const importBodyLimit = "11M"

// importInput reads the file(s) of an import request: a multipart upload
// ("file", optional "milestones" CSV), a "data" form field (the operator's
// commit after a dry run re-posts the checked text), or the raw body.
func importInput(c echo.Context) (format string, data, milestones []byte, err error) {
	format = strings.ToLower(c.QueryParam("format"))
	if f := c.FormValue("format"); f != "" && format == "" {
		format = strings.ToLower(f)
	}
	ct := c.Request().Header.Get(echo.HeaderContentType)
	read := func(fh *multipart.FileHeader) ([]byte, error) {
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, MaxImportBytes+1))
	}
	switch {
	case strings.HasPrefix(ct, echo.MIMEMultipartForm):
		if d := c.FormValue("data"); d != "" {
			data = []byte(d)
			if m := c.FormValue("milestonesData"); m != "" {
				milestones = []byte(m)
			}
			break
		}
		fh, ferr := c.FormFile("file")
		if ferr != nil {
			return "", nil, nil, web.Invalid(web.FieldError{Field: "file", Message: "choose a CSV or JSON file"})
		}
		if data, err = read(fh); err != nil {
			return "", nil, nil, err
		}
		if format == "" {
			format = formatFromName(fh.Filename)
		}
		if mh, merr := c.FormFile("milestones"); merr == nil && mh.Size > 0 {
			if milestones, err = read(mh); err != nil {
				return "", nil, nil, err
			}
		}
	case strings.HasPrefix(ct, echo.MIMEApplicationForm):
		data = []byte(c.FormValue("data"))
		if m := c.FormValue("milestonesData"); m != "" {
			milestones = []byte(m)
		}
	default:
		if data, err = io.ReadAll(io.LimitReader(c.Request().Body, MaxImportBytes+1)); err != nil {
			return "", nil, nil, err
		}
		if format == "" {
			if strings.Contains(ct, "json") {
				format = "json"
			} else if strings.Contains(ct, "csv") {
				format = "csv"
			}
		}
	}
	if len(data) > MaxImportBytes || len(milestones) > MaxImportBytes {
		return "", nil, nil, web.NewError(http.StatusRequestEntityTooLarge, "an import file may have at most 5 MiB")
	}
	if format != "csv" && format != "json" {
		return "", nil, nil, web.Invalid(web.FieldError{Field: "format", Message: "must be csv or json"})
	}
	return format, data, milestones, nil
}

func formatFromName(name string) string {
	name = strings.ToLower(name)
	switch {
	case strings.HasSuffix(name, ".json"):
		return "json"
	case strings.HasSuffix(name, ".csv"):
		return "csv"
	}
	return ""
}

// submitImport reads the request's file(s) and either dry-runs them (the
// report) or validates them and queues them as a job (the report, and the
// job when there was no error).
func (h *Handlers) submitImport(c echo.Context, dryRun bool) (service.ImportReport, *planstore.ImportJob, importView, error) {
	format, data, ms, err := importInput(c)
	if err != nil {
		return service.ImportReport{}, nil, importView{}, err
	}
	v := importView{Format: format, Data: string(data), MilestoneData: string(ms),
		Columns: importer.CommitmentColumns(), MColumns: importer.MilestoneColumns()}
	if dryRun {
		var msr io.Reader
		if ms != nil {
			msr = bytes.NewReader(ms)
		}
		rep, err := h.svc.Import(c.Request().Context(), format, bytes.NewReader(data), msr, true)
		return rep, nil, v, err
	}
	rep, job, err := h.svc.SubmitImport(c.Request().Context(), format, data, ms)
	if err == nil && job != nil {
		h.svc.QueueImport(job.ID)
	}
	return rep, job, v, err
}

// apiImport: POST /api/v1/import?format=csv|json&dryRun=true. A file with
// errors is 422 (nothing written, every error listed); a dry run is 200
// with its report; otherwise the import is queued as a job: 202, Location
// of the job, and the job's state.
func (h *Handlers) apiImport(c echo.Context) error {
	dry, _ := strconv.ParseBool(c.QueryParam("dryRun"))
	rep, job, _, err := h.submitImport(c, dry)
	if err != nil {
		return err
	}
	switch {
	case rep.HasErrors():
		return c.JSON(http.StatusUnprocessableEntity, rep)
	case job == nil:
		return c.JSON(http.StatusOK, rep)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/import/jobs/"+job.ID)
	return c.JSON(http.StatusAccepted, service.ImportStatus{ImportJob: *job})
}

// apiImportJob: GET /api/v1/import/jobs/{id}: the job's state and rows
// done / total, then its result.
func (h *Handlers) apiImportJob(c echo.Context) error {
	st, err := h.svc.ImportStatus(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

type importView struct {
	Report              *service.ImportReport
	Format              string
	Data, MilestoneData string
	Columns, MColumns   []string
}

func (h *Handlers) importForm(c echo.Context) error {
	return c.Render(http.StatusOK, "import.html", web.Page{Title: web.T(c, "node_import_title"),
		Data: importView{Columns: importer.CommitmentColumns(), MColumns: importer.MilestoneColumns()}})
}

// importSubmit: the "dry run" button checks and shows the report with a
// "commit" button that re-posts the same text; "commit" validates again,
// queues the job and sends the operator to its status page.
func (h *Handlers) importSubmit(c echo.Context) error {
	dry := c.FormValue("action") != "commit"
	rep, job, v, err := h.submitImport(c, dry)
	if err != nil {
		return err
	}
	if job != nil {
		return c.Redirect(http.StatusSeeOther, "/admin/import/jobs/"+job.ID)
	}
	v.Report = &rep
	status := http.StatusOK
	if rep.HasErrors() {
		status = http.StatusUnprocessableEntity
	}
	return c.Render(status, "import.html", web.Page{Title: web.T(c, "node_import_title"), Data: v})
}

// importJobRefresh is how often the job page reloads itself while the job
// runs (the Refresh header: no JavaScript needed).
const importJobRefresh = "2"

// importJobPage: GET /admin/import/jobs/{id}: the job's progress, reloading
// itself until it is done, then its result.
func (h *Handlers) importJobPage(c echo.Context) error {
	st, err := h.svc.ImportStatus(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if !st.Finished() {
		c.Response().Header().Set("Refresh", importJobRefresh)
	}
	return c.Render(http.StatusOK, "import_job.html", web.Page{Title: web.T(c, "node_import_job_title"), Data: st})
}
