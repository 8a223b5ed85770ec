package api

// The query parameters every list shares: the filter grammar and the page
// size. Errors are 400s that name the parameter.

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

func badRequest(msg string) error { return echo.NewHTTPError(http.StatusBadRequest, msg) }

// filterOf reads the shared filter grammar (readmodel.ParseFilter,
// docs/api-hub.md "Filter parameters"). Where the comparison page shows the
// rest of its results, the API refuses: a 400 whose message and fields
// name every refused parameter and what it accepts.
func filterOf(q url.Values) (readmodel.Filter, error) {
	f, problems := readmodel.ParseFilter(q)
	if len(problems) == 0 {
		return f, nil
	}
	e := web.NewError(http.StatusBadRequest, problems.Error())
	for _, p := range problems {
		e.Fields = append(e.Fields, web.FieldError{Field: p.Param, Message: p.Error()})
	}
	return f, e
}

// limitOf reads the page size: 1 to most, def when absent.
func limitOf(q url.Values, def, most int) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, badRequest("limit: want 1 to " + strconv.Itoa(most))
	}
	return n, nil
}
