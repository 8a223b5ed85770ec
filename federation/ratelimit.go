package federation

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// Inbox rate limit per client address, checked before any signature work
// (verification and key fetches are what a flood would cost us). The
// defaults leave room for a busy peer: the demo's 15 nodes all deliver to
// the hub from 127.0.0.1.
const (
	DefaultInboxRate  = 200 // requests per second per address
	DefaultInboxBurst = 400
)

func (s *Server) inboxLimiter() echo.MiddlewareFunc {
	r, burst := s.cfg.InboxRate, s.cfg.InboxBurst
	if r == 0 {
		r = DefaultInboxRate
	}
	if burst == 0 {
		burst = DefaultInboxBurst
	}
	if r < 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(r), Burst: burst, ExpiresIn: 3 * time.Minute,
		}),
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "1")
			return echo.NewHTTPError(http.StatusTooManyRequests, "too many deliveries from this address; retry later")
		},
	})
}
