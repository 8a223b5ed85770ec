// Command ogpnet runs the open-government network: a government's node, the
// hub that compares them, or the whole demo on one machine.
//
//	ogpnet node  --name jalisco --url https://gobierno.jalisco.example --addr :8080 --data /var/lib/ogpnet
//	ogpnet hub   --url https://hub.example --addr :8080 --data /var/lib/ogpnet
//	ogpnet demo  [--addr 127.0.0.1:8080] [--data ./data/demo] [--reset]
//	ogpnet token --name jalisco --data /var/lib/ogpnet
//	ogpnet store --addr 127.0.0.1:27017 --data /var/lib/ogpnet
//	ogpnet migrate --data /var/lib/ogpnet [--dry-run]
//	ogpnet backup  --data /var/lib/ogpnet --out ogpnet-backup.tar.gz
//	ogpnet restore --in ogpnet-backup.tar.gz --data /var/lib/ogpnet
//	ogpnet rotate-key --data /var/lib/ogpnet [--key actor|application]
//	ogpnet version
//
// Every flag can also be set with an OGPNET_* environment variable
// (--mongo-uri ↔ OGPNET_MONGO_URI); flags win.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ogpnet/ogpnet/internal/store/migrate"
)

// version is set at build time (-ldflags -X main.version=…).
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command in args and returns the exit code: 0, 1 when it
// failed, 2 for a bad command line (then nothing was created or bound).
func run(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) < 1 {
		usage()
		return 2
	}
	var err error
	switch cmd, args := args[0], args[1:]; cmd {
	case "node":
		err = runNode(ctx, args)
	case "hub":
		err = runHub(ctx, args)
	case "demo":
		err = runDemo(ctx, args)
	case "token":
		err = runToken(ctx, args)
	case "store":
		err = runStore(ctx, args)
	case "migrate":
		err = runMigrate(ctx, args)
	case "backup":
		err = runBackup(ctx, args)
	case "restore":
		err = runRestore(ctx, args)
	case "rotate-key":
		err = runRotateKey(ctx, args)
	case "version", "--version", "-v":
		runVersion(os.Stdout)
	case "help", "-h", "--help":
		usage()
	default:
		fmt.Fprintf(stderr, "ogpnet: unknown command %q\n\n", cmd)
		usage()
		return 2
	}
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(*migrate.NewerError)):
		fmt.Fprintln(stderr, "ogpnet:", err)
		return migrate.ExitCode
	case isUsage(err):
		fmt.Fprintln(stderr, "ogpnet:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "ogpnet:", err)
		return 1
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `ogpnet — a federated network for subnational open-government action plans

Usage:
  ogpnet node  --name <slug> --url <base URL> [--addr :8080] [--data <folder>] [flags]
  ogpnet hub   --url <base URL> [--addr :8080] [--data <folder>] [flags]
  ogpnet demo  [--addr 127.0.0.1:8080] [--data ./data/demo] [--reset]
  ogpnet token --name <slug> [--data <folder>] [--label <text>]   (operator API token for a node)
  ogpnet store [--addr 127.0.0.1:27017] [--data <folder>]   (the embedded store, shared over --mongo-uri)
  ogpnet migrate --data <folder> [--mongo-uri <URI>] [--dry-run]   (data layout: list or apply migrations)
  ogpnet backup  --data <folder> --out <file.tar.gz>   (embedded store, while the server runs)
  ogpnet restore --in <file.tar.gz> --data <empty folder>
  ogpnet rotate-key --data <folder> [--mongo-uri <URI>] [--db <name>] [--key actor|application]
                 (server stopped: a new signing key, announced to followers at the next start)
  ogpnet version

Exit status: 0 done, 1 failed, 2 usage, 3 the data is newer than this binary.

Run "ogpnet <command> -h" for the flags of a command. Every flag may also be
given as an environment variable: --mongo-uri is OGPNET_MONGO_URI.
`)
}

// common are the flags every server command has.
type common struct {
	addr, data, mongoURI, logLevel, logFormat string
}

func (c *common) register(fs *flag.FlagSet, defaultAddr, defaultData string) {
	fs.StringVar(&c.addr, "addr", defaultAddr, "listen address")
	fs.StringVar(&c.data, "data", defaultData, "data folder (embedded store, state)")
	fs.StringVar(&c.mongoURI, "mongo-uri", "", "MongoDB URI; empty starts the embedded store in --data")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "json", "json or text")
}

func (c *common) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.logFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// parse reads args, then fills every flag not given on the command line
// from OGPNET_<FLAG_NAME>, and finally checks that the required flags are
// not empty. Its errors are usage errors (exit code 2), except
// flag.ErrHelp after -h has printed the flags.
func parse(fs *flag.FlagSet, args []string, required ...string) error {
	// The flag package prints its own error and the whole flag list; one
	// line naming the flag is clearer, and -h still prints the list.
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return err
	}
	if err != nil {
		return usagef("%s: %v (see ogpnet %s -h)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (flags start with --)", fs.Name(), fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		env := "OGPNET_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := f.Value.Set(v); e != nil && err == nil {
				err = usagef("%s (--%s) %q: %v", env, f.Name, v, e)
			}
		}
	})
	if err != nil {
		return err
	}
	return requireFlags(fs, required)
}

// requireFlags fails, naming all of them, when a required flag is empty.
func requireFlags(fs *flag.FlagSet, required []string) error {
	for _, name := range required {
		if f := fs.Lookup(name); f == nil || f.Value.String() == "" {
			names := "--" + strings.Join(required, " and --")
			if len(required) == 1 {
				return usagef("%s: %s is required", fs.Name(), names)
			}
			return usagef("%s: %s are required", fs.Name(), names)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
