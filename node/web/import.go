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

func (h *Handlers) runImport(c echo.Context, dryRun bool) (service.ImportReport, string, []byte, []byte, error) {
	format, data, ms, err := importInput(c)
	if err != nil {
		return service.ImportReport{}, "", nil, nil, err
	}
	var msr io.Reader
	if ms != nil {
		msr = bytes.NewReader(ms)
	}
	rep, err := h.svc.Import(c.Request().Context(), format, bytes.NewReader(data), msr, dryRun)
	return rep, format, data, ms, err
}

// apiImport: POST /api/v1/import?format=csv|json&dryRun=true. A report
// with errors is 422 (nothing written); otherwise 200.
func (h *Handlers) apiImport(c echo.Context) error {
	dry, _ := strconv.ParseBool(c.QueryParam("dryRun"))
	rep, _, _, _, err := h.runImport(c, dry)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if rep.HasErrors() {
		status = http.StatusUnprocessableEntity
	}
	return c.JSON(status, rep)
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
// "commit" button that re-posts the same text; "commit" writes.
func (h *Handlers) importSubmit(c echo.Context) error {
	dry := c.FormValue("action") != "commit"
	rep, format, data, ms, err := h.runImport(c, dry)
	if err != nil {
		return err
	}
	v := importView{Report: &rep, Format: format, Data: string(data), MilestoneData: string(ms),
		Columns: importer.CommitmentColumns(), MColumns: importer.MilestoneColumns()}
	status := http.StatusOK
	if rep.HasErrors() {
		status = http.StatusUnprocessableEntity
	}
	return c.Render(status, "import.html", web.Page{Title: web.T(c, "node_import_title"), Data: v})
}
