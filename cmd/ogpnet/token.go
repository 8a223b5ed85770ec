package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ogpnet/ogpnet/internal/auth"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// runToken creates an operator API token for a node from the command line:
// the way in for a node run without an OpenID provider (scripted imports).
// With the embedded store, stop the node first: its database is a folder
// one process at a time should own.
func runToken(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	var c common
	c.register(fs, "", "./data/node")
	slug := fs.String("name", "", "the node's slug, as given to ogpnet node --name (required)")
	label := fs.String("label", "command line", "what the token is for, shown in the token list")
	if err := parse(fs, args, "name"); err != nil {
		return err
	}
	if err := checks(c.validate,
		func() error { return checkSlug("--name", *slug) },
		func() error {
			if strings.TrimSpace(*label) == "" {
				return usagef("--label: must not be empty")
			}
			return checkText("--label", *label, 100)
		},
	); err != nil {
		return err
	}
	// Opening the embedded store creates it: a token for a node that was
	// never started must not leave a new store behind.
	if c.mongoURI == "" {
		if _, err := os.Stat(filepath.Join(c.data, "db")); err != nil {
			return usagef("--name %q: no node store in --data %q (run ogpnet node with the same --data first)", *slug, c.data)
		}
	}
	log := c.logger()
	st, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer closeStore(st)
	dbName := "ogpnet_" + dbSafe(*slug)
	names, err := st.Client.ListDatabaseNames(ctx, bson.D{{Key: "name", Value: dbName}})
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usagef("--name %q: no such node in the store (run ogpnet node --name %s first)", *slug, *slug)
	}
	a, err := auth.New(ctx, st.DB(dbName), auth.Config{Logger: log})
	if err != nil {
		return err
	}
	plain, tok, err := a.CreateToken(ctx, &auth.Principal{Subject: "cli", Name: "Command line", Operator: true}, *label)
	if err != nil {
		return err
	}
	fmt.Printf("%s\n", plain)
	log.Info("API token created; it is shown once and stored hashed", "id", tok.ID, "label", tok.Label)
	return nil
}
