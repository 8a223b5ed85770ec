package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"
)

// pprofFlags open Go's profiler on a listener of its own, for operators
// only (issue 11): off unless --pprof-addr is given, and on a loopback
// address unless --pprof-allow-remote says otherwise, because profiles and
// the command line reveal the server's memory and secrets.
type pprofFlags struct {
	addr        string
	allowRemote bool
}

func (p *pprofFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&p.addr, "pprof-addr", "", "serve Go's profiler (/debug/pprof/) on this loopback host:port, e.g. 127.0.0.1:6060 (default: off)")
	fs.BoolVar(&p.allowRemote, "pprof-allow-remote", false, "let --pprof-addr bind a non-loopback address (put it behind a firewall)")
}

func (p *pprofFlags) validate() error {
	if p.addr == "" {
		if p.allowRemote {
			return usagef("--pprof-allow-remote: needs --pprof-addr")
		}
		return nil
	}
	if err := checkAddr("--pprof-addr", p.addr); err != nil {
		return err
	}
	if p.allowRemote {
		return nil
	}
	host, _, _ := net.SplitHostPort(p.addr)
	if !loopbackHost(host) {
		return usagef("--pprof-addr %q: not a loopback address (profiles expose the server's memory); use 127.0.0.1 or [::1], or add --pprof-allow-remote", p.addr)
	}
	return nil
}

// loopbackHost reports whether host is "localhost" or a loopback IP; an
// empty host (every interface) is not.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// onPprofListen, when set (tests), is told the address the profiler bound.
var onPprofListen func(net.Addr)

// listenPprof binds --pprof-addr and serves the profiler there until the
// listener is closed; nil when the flag is off.
func (p *pprofFlags) listen() (net.Listener, error) {
	if p.addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof-addr %q: %w", p.addr, err)
	}
	if onPprofListen != nil {
		onPprofListen(ln.Addr())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// A CPU profile or trace runs for its ?seconds=, so no write timeout.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln, nil
}
