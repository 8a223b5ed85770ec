package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startHub runs `ogpnet hub` with more flags in this process and returns
// the address it serves on, once it answers /healthz, and the profiler's
// address ("" when it bound none).
func startHubCmd(t *testing.T, more ...string) (addr, pprofAddr string) {
	t.Helper()
	addrc, pprofc := make(chan net.Addr, 1), make(chan net.Addr, 1)
	onListen = func(a net.Addr) { addrc <- a }
	onPprofListen = func(a net.Addr) { pprofc <- a }
	t.Cleanup(func() { onListen, onPprofListen = nil, nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := append([]string{"hub", "--url", "http://hub.localhost", "--addr", "127.0.0.1:0",
		"--data", filepath.Join(t.TempDir(), "data"), "--log-level", "error"}, more...)
	go func() { done <- run(ctx, args, io.Discard) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case a := <-addrc:
		addr = a.String()
	case code := <-done:
		t.Fatalf("hub exited with %d", code)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub not serving: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case a := <-pprofc:
		pprofAddr = a.String()
	default:
	}
	return addr, pprofAddr
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestPprof: the profiler is off unless --pprof-addr is given (nothing
// binds, and the public listener has no /debug/pprof/), and with the flag
// it serves the profiles on its own loopback listener only.
func TestPprof(t *testing.T) {
	t.Run("off by default", func(t *testing.T) {
		addr, pprofAddr := startHubCmd(t)
		if pprofAddr != "" {
			t.Fatalf("a profiler listener was bound at %s without --pprof-addr", pprofAddr)
		}
		if code, _ := getBody(t, "http://"+addr+"/debug/pprof/"); code != http.StatusNotFound {
			t.Errorf("GET /debug/pprof/ on the public listener: %d, want 404", code)
		}
	})
	t.Run("on", func(t *testing.T) {
		addr, pprofAddr := startHubCmd(t, "--pprof-addr", "127.0.0.1:0")
		if pprofAddr == "" {
			t.Fatal("--pprof-addr 127.0.0.1:0 bound nothing")
		}
		code, body := getBody(t, "http://"+pprofAddr+"/debug/pprof/")
		if code != http.StatusOK || !strings.Contains(body, "goroutine") || !strings.Contains(body, "heap") {
			t.Errorf("GET /debug/pprof/ on %s: %d %.200q; want the profile index", pprofAddr, code, body)
		}
		if code, body := getBody(t, "http://"+pprofAddr+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
			t.Errorf("goroutine profile: %d %.200q", code, body)
		}
		if code, _ := getBody(t, "http://"+addr+"/debug/pprof/"); code != http.StatusNotFound {
			t.Errorf("GET /debug/pprof/ on the public listener: %d, want 404 (profiles only on --pprof-addr)", code)
		}
	})
}
