package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/ogpnet/ogpnet/internal/auth"
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
	log := c.logger()
	st, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer closeStore(st)
	a, err := auth.New(ctx, st.DB("ogpnet_"+dbSafe(*slug)), auth.Config{Logger: log})
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
