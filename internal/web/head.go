package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// HeadAsGet answers HEAD on every GET route: the request is routed as a
// GET (Echo routes by method, and registering HEAD beside every GET in
// four packages would be easy to forget), the handler runs as for GET, and
// its body is counted and dropped, so the answer has the GET's status and
// headers, Content-Type and Content-Length included, and no body. A path
// with no GET route still answers 404 (or 405 when other methods exist).
// NewEcho installs it with e.Pre, ahead of routing.
func HeadAsGet() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Method != http.MethodHead {
				return next(c)
			}
			// Echo routes by the request it was given (not c.Request()), so
			// the method changes in place; the whole chain then runs exactly
			// as for GET. It is HEAD again before anything reaches net/http,
			// which then keeps the connection open for a body-less answer.
			r.Method = http.MethodGet
			res := c.Response()
			hw := &headWriter{ResponseWriter: res.Writer}
			res.Writer = hw
			err := next(c)
			if err != nil {
				// Render the error now, while the body is still dropped.
				c.Error(err)
			}
			r.Method = http.MethodHead
			res.Writer = hw.ResponseWriter
			hw.finish()
			return nil
		}
	}
}

// headWriter holds back the status until the handler is done, counts the
// body and drops it.
type headWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (w *headWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *headWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += int64(len(p))
	return len(p), nil
}

// Flush does nothing: the status and headers go out once the handler is
// done (streaming handlers flush; a HEAD has nothing to stream).
func (w *headWriter) Flush() {}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (w *headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *headWriter) finish() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	h := w.Header()
	if h.Get("Content-Length") == "" && w.n > 0 && w.code != http.StatusNoContent && w.code != http.StatusNotModified {
		h.Set("Content-Length", strconv.FormatInt(w.n, 10))
	}
	w.ResponseWriter.WriteHeader(w.code)
}
