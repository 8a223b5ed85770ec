package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ogpnet/ogpnet/internal/web"
)

// serverTimeouts are the standalone servers' timeouts, passed to the node's
// or hub's Echo and to its http.Server (web.NewHTTPServer, the same
// constructor as the demo's listener). Zero fields take
// web.DefaultTimeouts; tests shorten them.
var serverTimeouts web.Timeouts

// onListen, when set (tests), is told the address a server bound.
var onListen func(net.Addr)

// listen binds addr before anything is logged as listening, so a bad or
// taken address fails at start.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %q: %w", addr, err)
	}
	if onListen != nil {
		onListen(ln.Addr())
	}
	return ln, nil
}

// serve runs h on ln until ctx ends, then shuts down gracefully: the
// listener closes, in-flight requests get 20 s to finish.
func serve(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler) error {
	srv := web.NewHTTPServer("", h, serverTimeouts)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
