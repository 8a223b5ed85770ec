package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/internal/store/migrate"
)

// runMigrate shows (--dry-run) or applies the migrations each server
// database in the store needs. Node and hub apply them at start anyway;
// this command is for looking first, and for applying at a chosen time.
// With the embedded store, stop the server first: one process at a time
// owns the data folder.
func runMigrate(ctx context.Context, args []string) error {
	return migrateTo(ctx, os.Stdout, args)
}

func migrateTo(ctx context.Context, w io.Writer, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var c common
	c.register(fs, "", "./data/node")
	dry := fs.Bool("dry-run", false, "list what each migration would change, change nothing")
	only := fs.String("db", "", "only this database (default: every node and hub database in the store)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	log := c.logger()
	st, err := store.Open(ctx, store.Options{URI: c.mongoURI, DataDir: c.data, Logger: log})
	if err != nil {
		return err
	}
	defer closeStore(st)
	dbs := []string{*only}
	if *only == "" {
		if dbs, err = migrate.Databases(ctx, st.Client); err != nil {
			return err
		}
	}
	if len(dbs) == 0 {
		fmt.Fprintln(w, "no ogpnet database in this store: nothing to migrate")
		return nil
	}
	for _, name := range dbs {
		db := st.DB(name)
		s, pending, err := migrate.Plan(ctx, db)
		if err != nil {
			return err
		}
		from := fmt.Sprintf("version %d", s.Version)
		if s.Version == 0 {
			from = "version 0 (no version recorded: the layout before versioned data)"
		}
		fmt.Fprintf(w, "%s: %s; this binary's newest is %d\n", name, from, migrate.Latest())
		if len(pending) == 0 {
			fmt.Fprintln(w, "  up to date")
			continue
		}
		for _, p := range pending {
			fmt.Fprintf(w, "  %d %s\n", p.Version, p.Name)
			if len(p.Changes) == 0 {
				fmt.Fprintln(w, "      nothing to change")
			}
			for _, ch := range p.Changes {
				fmt.Fprintf(w, "      %s\n", ch)
			}
		}
		if *dry {
			continue
		}
		steps, err := migrate.Up(ctx, db, migrate.Options{BinaryVersion: version, Logger: log})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  applied %d migration(s); now at version %d\n", len(steps), migrate.Latest())
	}
	if *dry {
		fmt.Fprintln(w, "dry run: nothing was changed")
	}
	return nil
}
