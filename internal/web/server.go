package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultBodyLimit caps request bodies unless Options.BodyLimit says
// otherwise. Route-level limits (the inbox's) can only be smaller.
const DefaultBodyLimit = "2M"

// DefaultCSP allows only same-origin resources and no inline scripts or
// styles; inline SVG charts use classes, not style attributes, to stay
// within it. form-action is left out on purpose: a login form that
// redirects to an external OpenID provider would be blocked by Chromium.
const DefaultCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'self'; frame-ancestors 'none'"

// Paths served by NewEcho itself.
const (
	MetricsPath = "/metrics"
	HealthPath  = "/healthz"
	ReadyPath   = "/readyz"
	StaticPath  = "/static"
)

// Options configure NewEcho. The zero value works.
type Options struct {
	// TrustProxy takes client addresses from X-Forwarded-For (only behind a
	// reverse proxy that sets it).
	TrustProxy bool
	// Logger receives access logs and 5xx errors. Default: slog.Default().
	Logger *slog.Logger
	// Registry is this server's metrics registry, served at /metrics. Each
	// server gets its own so that several servers in one process (the demo
	// runs 16) do not collide on the global registry. When nil, a new one is
	// made with the Go and process collectors; when given, the caller decides
	// which collectors to add.
	Registry *prometheus.Registry
	// Ready is called by GET /readyz; a non-nil error answers 503. Nil means
	// always ready.
	Ready func(ctx context.Context) error
	// StatusOf maps the application's sentinel errors to an HTTP status
	// (pkgsite's derrors.ToStatus); ok=false means "not mine" (then 500).
	StatusOf func(error) (status int, ok bool)
	// BodyLimit is the global request body cap, e.g. "2M". Default DefaultBodyLimit.
	BodyLimit string
	// LargeBodies maps route paths (as registered, e.g. "/api/v1/import")
	// to their own, larger cap (e.g. "12M"): uploads that the global cap
	// would refuse.
	LargeBodies map[string]string
	// CSP is the Content-Security-Policy. Default DefaultCSP.
	CSP string
	// HSTSMaxAge, in seconds, enables Strict-Transport-Security (set it in
	// production behind TLS; 0 leaves the header out, as the demo needs).
	HSTSMaxAge int
	// Renderer renders pages and the error page. Default: a renderer with the
	// layout and the error page only. NewEcho sets e.Renderer to it.
	Renderer *Renderer
	// Timeouts: the per-request read and write deadlines every route gets
	// (and e.Server's); zero fields take DefaultTimeouts. Serve the Echo
	// with NewHTTPServer and the same Timeouts.
	Timeouts Timeouts
	// LongRoutes (registered paths, e.g. "/api/v1/import") get
	// Timeouts.LongRead and LongWrite instead: uploads.
	LongRoutes []string
	// DefaultLang is the UI language when neither ?lang=, the language
	// cookie nor Accept-Language chooses one of the catalogue's languages: a
	// node's own language (es for Jalisco). "" or a language without a
	// catalogue means English.
	DefaultLang string
}

// NewEcho returns an Echo v4 instance with the shared middleware chain and
// the operational routes (/metrics, /healthz, /readyz, /static/*). Every
// GET route also answers HEAD (HeadAsGet, before routing).
//
// Middleware, outermost first: request id; observe (access log, metrics,
// and the hand-off of returned errors to the central error handler, so the
// recorded status is the one sent); deadlines (per-request read and write
// deadlines, longer on Options.LongRoutes; a body cut off answers 408);
// recover (panics become 500s, logged once
// with their stack); secure headers; body limit; gzip (not for /metrics,
// which compresses itself); i18n (language and localizer in the context).
func NewEcho(opts Options) *echo.Echo {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := newHTTPMetrics(reg)

	e := echo.New()
	// Rate limits key on the client address: take it from the connection,
	// not from X-Forwarded-For, which any client can forge. Operators behind
	// a trusted proxy set TrustProxy.
	e.IPExtractor = echo.ExtractIPDirect()
	if opts.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.HideBanner = true
	e.HidePort = true
	e.Pre(HeadAsGet())
	if opts.DefaultLang != "" && opts.DefaultLang != DefaultLang {
		e.Pre(SiteLang(opts.DefaultLang))
	}
	e.HTTPErrorHandler = errorHandler(logger, opts.StatusOf)
	if opts.Renderer != nil {
		e.Renderer = opts.Renderer
	} else {
		e.Renderer = defaultRenderer()
	}
	timeouts := opts.Timeouts.WithDefaults()
	// e.Start serves e.Server: give it the shared timeouts too.
	srv := NewHTTPServer("", nil, timeouts)
	e.Server.ReadHeaderTimeout = srv.ReadHeaderTimeout
	e.Server.WriteTimeout = srv.WriteTimeout
	e.Server.IdleTimeout = srv.IdleTimeout
	e.Server.MaxHeaderBytes = srv.MaxHeaderBytes

	bodyLimit := opts.BodyLimit
	if bodyLimit == "" {
		bodyLimit = DefaultBodyLimit
	}
	csp := opts.CSP
	if csp == "" {
		csp = DefaultCSP
	}

	e.Use(
		middleware.RequestID(),
		observe(logger, m),
		deadlines(timeouts, opts.LongRoutes),
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisablePrintStack:   false,
			DisableErrorHandler: true, // observe hands the error on, once
			LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
				// Carry the stack in the error so the error handler logs the
				// panic once, with its request id.
				return &panicError{err: err, stack: stack}
			},
		}),
		middleware.SecureWithConfig(middleware.SecureConfig{
			XSSProtection:         "0", // the legacy XSS auditor does more harm than good; CSP replaces it
			ContentTypeNosniff:    "nosniff",
			XFrameOptions:         "DENY",
			HSTSMaxAge:            opts.HSTSMaxAge,
			ContentSecurityPolicy: csp,
			ReferrerPolicy:        "strict-origin-when-cross-origin",
		}),
		bodyLimits(bodyLimit, opts.LargeBodies),
		middleware.GzipWithConfig(middleware.GzipConfig{
			Skipper:   func(c echo.Context) bool { return c.Path() == MetricsPath },
			MinLength: 1024, // gzip overhead outweighs the gain below ~1 KB
		}),
		I18n(),
	)

	e.GET(MetricsPath, echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	e.GET(HealthPath, func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET(ReadyPath, func(c echo.Context) error {
		if opts.Ready != nil {
			// Probes time out after a few seconds: answer well before that,
			// also while the store is away (the driver would wait for it).
			ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
			defer cancel()
			if err := opts.Ready(ctx); err != nil {
				logger.WarnContext(ctx, "not ready", "error", err.Error())
				return c.String(http.StatusServiceUnavailable, "not ready")
			}
		}
		return c.String(http.StatusOK, "ok")
	})
	registerStatic(e)
	return e
}

// panicError is a recovered panic with its stack.
type panicError struct {
	err   error
	stack []byte
}

func (p *panicError) Error() string { return "panic: " + p.err.Error() + "\n" + string(p.stack) }
func (p *panicError) Unwrap() error { return p.err }

// httpMetrics are the per-server request metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newHTTPMetrics registers the request metrics, reusing collectors already
// registered on reg (a registry shared by two Echo instances is not an error).
func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	req := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ogpnet_http_requests_total",
		Help: "HTTP requests served, by method, route pattern and status code.",
	}, []string{"method", "route", "status"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ogpnet_http_request_duration_seconds",
		Help:    "HTTP request latency, by method and route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route"})
	return &httpMetrics{requests: register(reg, req), duration: register(reg, dur)}
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("web: registering metric: " + err.Error())
	}
	return c
}

// quietPaths are not access-logged: probes hit them every few seconds.
var quietPaths = map[string]bool{MetricsPath: true, HealthPath: true, ReadyPath: true}

// observe records the access log and metrics for each request. It sends a
// returned error to the central error handler itself, so that the status
// it records is the one the client got, and the error is handled once.
func observe(logger *slog.Logger, m *httpMetrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			res := c.Response()
			status := res.Status
			// Route patterns, not paths, keep label cardinality bounded; a
			// request that matched no route (Echo leaves Path empty) gets one
			// shared label.
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			method := c.Request().Method
			elapsed := time.Since(start)
			m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
			if !quietPaths[route] {
				logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
					slog.String("method", method),
					slog.String("path", c.Request().URL.Path),
					slog.String("route", route),
					slog.Int("status", status),
					slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
					slog.Int64("bytes", res.Size),
					slog.String("remote_ip", c.RealIP()),
					slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
				)
			}
			return nil
		}
	}
}

// bodyLimits caps request bodies at def, or at the route's own cap from
// large (matched on the registered route path, known after routing).
func bodyLimits(def string, large map[string]string) echo.MiddlewareFunc {
	defLimit := middleware.BodyLimit(def)
	routeLimits := map[string]echo.MiddlewareFunc{}
	for path, limit := range large {
		routeLimits[path] = middleware.BodyLimit(limit)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withDef := defLimit(next)
		withRoute := map[string]echo.HandlerFunc{}
		for path, mw := range routeLimits {
			withRoute[path] = mw(next)
		}
		return func(c echo.Context) error {
			if h, ok := withRoute[c.Path()]; ok {
				return h(c)
			}
			return withDef(c)
		}
	}
}
