package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// childArgs, when set, makes the test binary run ogpnet with these
// arguments (JSON) instead of the tests: the real main, exit code and all.
const childArgs = "OGPNET_TEST_CHILD_ARGS"

// childMain runs main instead of the tests when childArgs is set (called
// first by TestMain).
func childMain() {
	if raw := os.Getenv(childArgs); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			panic(err)
		}
		os.Args = append([]string{"ogpnet"}, args...)
		main()
		os.Exit(0)
	}
}

// runChild runs ogpnet args as a child process with env (NAME=value) and
// returns its exit code and standard error.
func runChild(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	raw, _ := json.Marshal(args)
	// A command that accepted its flags would run until stopped: give it
	// time to fail at start (the embedded store takes a few seconds), then
	// stop it (exit -1).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childArgs+"="+string(raw)), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	default:
		t.Fatalf("ogpnet %q: %v", args, err)
		return 0, ""
	}
}

// TestBadFlags: every bad flag of every command stops ogpnet at start with
// exit code 2 and a message naming the flag, and nothing is created: the
// data folder does not come into being.
func TestBadFlags(t *testing.T) {
	node := []string{"node", "--name", "jalisco", "--url", "https://ogp.jalisco.example", "--addr", "127.0.0.1:0"}
	hub := []string{"hub", "--url", "https://hub.example", "--addr", "127.0.0.1:0"}
	with := func(base []string, more ...string) []string { return append(append([]string{}, base...), more...) }
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"lang", nil, with(node, "--lang", "!!"), `--lang "!!": not a BCP 47 language tag`},
		{"languages", nil, with(node, "--languages", "es,e n"), `--languages "e n": not a BCP 47 language tag`},
		{"replies", nil, with(node, "--replies", "maybe"), `--replies "maybe": must be open, review or off`},
		{"reply rate", nil, with(node, "--reply-rate", "0"), `--reply-rate 0: must be from 1 to 10000`},
		{"slug", nil, with(node, "--name", "Jalisco_2"), `--name "Jalisco_2": must be lower-case letters`},
		{"url query", nil, with(node, "--url", "https://ogp.jalisco.example/?a=1"), `--url "https://ogp.jalisco.example/?a=1": must not have a query`},
		{"url fragment", nil, with(node, "--url", "https://ogp.jalisco.example/#x"), `must not have a fragment`},
		{"url userinfo", nil, with(node, "--url", "https://u:p@ogp.jalisco.example"), `must not contain user info`},
		{"url scheme", nil, with(node, "--url", "ftp://ogp.jalisco.example"), `--url "ftp://ogp.jalisco.example": must start with https://`},
		{"url path", nil, with(node, "--url", "https://ogp.jalisco.example/ogp"), `must be the site's root`},
		{"url host", nil, with(node, "--url", "https://"), `has no valid host`},
		{"node hub-url", nil, with(node, "--hub-url", "ftp://hub.example"), `--hub-url "ftp://hub.example": must start with https://`},
		{"display name", nil, with(node, "--display-name", "Jalisco\u202egnp"), `--display-name "Jalisco\u202egnp": must not contain control characters`},
		{"addr", nil, with(node, "--addr", "nonsense"), `--addr "nonsense": must be host:port`},
		{"addr port", nil, with(node, "--addr", "127.0.0.1:99999"), `--addr "127.0.0.1:99999": the port must be a number from 0 to 65535`},
		{"log level", nil, with(node, "--log-level", "loud"), `--log-level "loud": must be debug, info, warn or error`},
		{"log format", nil, with(node, "--log-format", "xml"), `--log-format "xml": must be json or text`},
		{"mongo uri", nil, with(node, "--mongo-uri", "http://secret@db"), `--mongo-uri: must be a mongodb://`},
		{"allow private", nil, with(node, "--allow-private", "10.0.0/8"), `--allow-private "10.0.0/8": not a CIDR prefix`},
		{"oidc without issuer", nil, with(node, "--oidc-client-id", "x"), `--oidc-client-id: needs --oidc-issuer`},
		{"oidc issuer", nil, with(node, "--oidc-issuer", "https://id.example?x=1"), `--oidc-issuer "https://id.example?x=1": must not have a query`},
		{"oidc client id", nil, with(node, "--oidc-issuer", "https://id.example"), `--oidc-client-id: required with --oidc-issuer`},
		{"operator domains", nil, with(node, "--oidc-issuer", "https://id.example", "--oidc-client-id", "c", "--operator-domains", "a b"), `--operator-domains "a b": not a domain name`},
		{"operator groups", nil, with(node, "--oidc-issuer", "https://id.example", "--oidc-client-id", "c", "--operator-groups", "g"), `--operator-groups: needs --groups-claim`},
		{"unknown flag", nil, with(node, "--colour", "red"), `node: flag provided but not defined: -colour`},
		{"stray argument", nil, with(node, "extra"), `node: unexpected argument "extra"`},
		{"required", nil, []string{"node", "--name", "jalisco"}, `node: --name and --url are required`},
		{"backfill negative", nil, with(hub, "--backfill-interval", "-5s"), `--backfill-interval -5s: must be positive`},
		{"backfill zero", nil, with(hub, "--backfill-interval", "0s"), `--backfill-interval 0s: must be positive`},
		{"backfill syntax", nil, with(hub, "--backfill-interval", "soon"), `hub: invalid value "soon" for flag -backfill-interval`},
		{"backfill from env", []string{"OGPNET_BACKFILL_INTERVAL=-5s"}, hub, `--backfill-interval -5s: must be positive`},
		{"bad env value", []string{"OGPNET_BACKFILL_INTERVAL=soon"}, hub, `OGPNET_BACKFILL_INTERVAL (--backfill-interval) "soon"`},
		{"group posts", nil, with(hub, "--group-posts", "maybe"), `--group-posts "maybe": must be review, open or off`},
		{"member", nil, with(hub, "--members", "@jalisco@ogp.example,not a handle"), `--members "not a handle": neither a handle like @name@host nor an actor URL`},
		{"member host", nil, with(hub, "--members", "@jalisco@bad_host"), `--members "@jalisco@bad_host": "bad_host" is not a host name`},
		{"member url", nil, with(hub, "--members", "https://ogp.example/users/j#main"), `--members "https://ogp.example/users/j#main": must not have a fragment`},
		{"pprof addr", nil, with(hub, "--pprof-addr", "6060"), `--pprof-addr "6060": must be host:port`},
		{"pprof every interface", nil, with(hub, "--pprof-addr", ":6060"), `--pprof-addr ":6060": not a loopback address`},
		{"pprof public", nil, with(node, "--pprof-addr", "192.0.2.1:6060"), `--pprof-addr "192.0.2.1:6060": not a loopback address`},
		{"pprof host name", []string{"OGPNET_PPROF_ADDR=pprof.example:6060"}, hub, `--pprof-addr "pprof.example:6060": not a loopback address`},
		{"pprof allow without addr", nil, with(hub, "--pprof-allow-remote"), `--pprof-allow-remote: needs --pprof-addr`},
		{"hub url", nil, with(hub, "--url", "https://hub.example?x"), `--url "https://hub.example?x": must not have a query`},
		{"demo addr", nil, []string{"demo", "--addr", "nonsense"}, `--addr "nonsense": must be host:port`},
		{"demo log level", nil, []string{"demo", "--log-level", "loud"}, `--log-level "loud"`},
		{"demo replies", nil, []string{"demo", "--replies", "all"}, `--replies "all": must be open, review or off`},
		{"token slug", nil, []string{"token", "--name", "Bad Name"}, `--name "Bad Name": must be lower-case letters`},
		{"token label", nil, []string{"token", "--name", "x", "--label", " "}, `--label: must not be empty`},
		{"store addr", nil, []string{"store", "--addr", "nonsense"}, `--addr "nonsense": must be host:port`},
		{"migrate log level", nil, []string{"migrate", "--log-level", "loud"}, `--log-level "loud"`},
		{"rotate-key mongo uri", nil, []string{"rotate-key", "--mongo-uri", "x"}, `--mongo-uri: must be a mongodb://`},
		{"backup without --out", nil, []string{"backup"}, `--out: required`},
		{"backup with mongo", nil, []string{"backup", "--out", "b.tar.gz", "--mongo-uri", "mongodb://db"}, `--mongo-uri: with MongoDB, back up with mongodump`},
		{"restore without --in", nil, []string{"restore"}, `--in: required`},
		{"token no node", nil, []string{"token", "--name", "x"}, `--name "x": no node store in --data`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := with(tc.args, "--data", data)
			code, stderr := runChild(t, tc.env, args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("ogpnet %q: exit %d, stderr %q; want exit 2 and %q", args, code, stderr, tc.want)
			}
			if strings.Contains(stderr, "listening") {
				t.Errorf("ogpnet %q logged listening: %q", args, stderr)
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("ogpnet %q left %s behind (%v)", args, data, err)
			}
		})
	}
}

// TestAddressInUse: a server whose --addr cannot be bound fails before it
// opens its store or says it is listening.
func TestAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	code, stderr := runChild(t, nil, "hub", "--url", "https://hub.example", "--addr", ln.Addr().String(), "--data", data)
	if code != 1 || !strings.Contains(stderr, `--addr "`+ln.Addr().String()+`"`) || !strings.Contains(stderr, "address already in use") {
		t.Errorf("hub on a taken address: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "listening") {
		t.Errorf("hub on a taken address logged listening: %q", stderr)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("hub on a taken address created %s (%v)", data, err)
	}
}

// TestTokenForUnknownNode: a token for a node the store does not hold is
// refused (exit 2) and adds nothing to the store's folder.
func TestTokenForUnknownNode(t *testing.T) {
	dir := t.TempDir()
	seedNodeDB(t, dir, "jalisco")
	before := listFiles(t, dir)
	code, stderr := runChild(t, nil, "token", "--name", "oaxaca", "--data", dir, "--log-level", "error")
	if code != 2 || !strings.Contains(stderr, `--name "oaxaca": no such node in the store`) {
		t.Errorf("token for an unknown node: exit %d, stderr %q", code, stderr)
	}
	if after := listFiles(t, dir); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("token for an unknown node changed the store's files:\nbefore %q\nafter  %q", before, after)
	}
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// seedNodeDB makes the database a node named slug keeps in the embedded
// store in dir, as ogpnet node would.
func seedNodeDB(t *testing.T, dir, slug string) {
	t.Helper()
	ctx := context.Background()
	var c common
	c.data = dir
	st, err := c.openStore(ctx, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore(st)
	if _, err := st.DB("ogpnet_"+dbSafe(slug)).Collection("settings").InsertOne(ctx, map[string]string{"_id": "x"}); err != nil {
		t.Fatal(err)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
