package main

import (
	"context"
	"flag"

	"github.com/ogpnet/ogpnet/internal/store"
)

// runStore serves the embedded store (FerretDB on SQLite in --data) over
// the MongoDB wire protocol, so that several processes on one machine (a
// node and a hub, or a hub's replicas) share it through
// --mongo-uri mongodb://HOST:PORT/. SIGTERM or SIGINT stop it: the
// listener and every connection close, then the SQLite files.
func runStore(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("store", flag.ContinueOnError)
	var c common
	c.register(fs, "127.0.0.1:27017", "./data/store")
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.mongoURI != "" {
		return usagef("store: --mongo-uri makes no sense here: this command is the store")
	}
	if err := checks(func() error { return checkAddr("--addr", c.addr) }, c.validate); err != nil {
		return err
	}
	log := c.logger()
	err := store.Serve(ctx, store.ServeOptions{
		DataDir: c.data, Addr: c.addr, Logger: log,
		Ready: func(addr string) {
			log.Info("store listening", "addr", addr, "data", c.data, "uri", "mongodb://"+addr+"/")
		},
	})
	if err == nil {
		log.Info("store stopped")
	}
	return err
}
