package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/internal/store/migrate"
)

// usageError is a mistake in how a command was called: exit status 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// runRotateKey replaces a server's signing key. Run it while the server
// is stopped (every replica): a running server keeps signing with the key
// it loaded at start, and nothing stops two processes from opening the
// same embedded store, so this command cannot tell that one runs. At its
// next start the server announces the new actor key to its followers.
func runRotateKey(ctx context.Context, args []string) error {
	return rotateKeyCmd(ctx, os.Stdout, args)
}

func rotateKeyCmd(ctx context.Context, w io.Writer, args []string) error {
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	var c common
	c.register(fs, "", "./data/node")
	db := fs.String("db", "", "the server's database (default: the only one in the store: ogpnet_<slug> for a node, ogpnet_hub)")
	key := fs.String("key", federation.KeyActor, `which key: "actor" (signs deliveries; followers are told) or "application" (signs fetches)`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if *key != federation.KeyActor && *key != federation.KeyApplication {
		return usageError{fmt.Errorf("rotate-key: --key %q: want %q or %q", *key, federation.KeyActor, federation.KeyApplication)}
	}
	if c.mongoURI == "" {
		// Opening the embedded store creates the folder: check first, so
		// that a mistyped --data creates nothing.
		files, _ := filepath.Glob(filepath.Join(c.data, "db", "*.sqlite"))
		if len(files) == 0 {
			return usageError{fmt.Errorf("rotate-key: no embedded store in %s (no %s): give the data folder of a server that has run, or --mongo-uri",
				c.data, filepath.Join(c.data, "db", "*.sqlite"))}
		}
	}
	st, err := store.Open(ctx, store.Options{URI: c.mongoURI, DataDir: c.data, Logger: c.logger()})
	if err != nil {
		return err
	}
	defer closeStore(st)
	name := *db
	if name == "" {
		dbs, err := migrate.Databases(ctx, st.Client)
		if err != nil {
			return err
		}
		switch len(dbs) {
		case 0:
			return usageError{errors.New("rotate-key: no ogpnet database in this store: no server has started on it")}
		case 1:
			name = dbs[0]
		default:
			return usageError{fmt.Errorf("rotate-key: the store holds %d servers' databases (%s): choose one with --db", len(dbs), strings.Join(dbs, ", "))}
		}
	}
	if err := federation.RotateKey(ctx, st.DB(name), *key, time.Now()); err != nil {
		if errors.Is(err, federation.ErrNoKey) {
			return usageError{fmt.Errorf("rotate-key: %w", err)}
		}
		return err
	}
	fmt.Fprintf(w, "%s: replaced the %s key with a new 2048-bit RSA key.\n", name, *key)
	if *key == federation.KeyActor {
		fmt.Fprintln(w, "Start the server (every replica): it serves the new public key on its actor and sends its followers an Update of the actor signed with it.")
	} else {
		fmt.Fprintln(w, "Start the server (every replica): it signs its fetches with the new key.")
	}
	fmt.Fprintln(w, "A server that was running keeps the old key until it restarts. Take a new backup: older ones hold the old key.")
	return nil
}
