package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/cmd/ogpnet/demo"
	"github.com/ogpnet/ogpnet/node/conversation"
)

func runDemo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (every server is reached through it by host name)")
	data := fs.String("data", "./data/demo", "data folder; a second run resumes from it")
	reset := fs.Bool("reset", false, "delete the data folder first and start over")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	replies := fs.String("replies", "review", "replies to the pilots from the fediverse: open, review or off")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checks(
		func() error { return checkAddr("--addr", *addr) },
		func() error {
			if strings.TrimSpace(*data) == "" {
				return usagef("--data: must not be empty")
			}
			return nil
		},
		func() error { return checkLogLevel(*logLevel) },
		func() error { return checkReplies(*replies, 1) },
	); err != nil {
		return err
	}
	c := common{logLevel: *logLevel, logFormat: "text"}
	started := time.Now()
	d, err := demo.Start(ctx, demo.Options{Addr: *addr, DataDir: *data, Reset: *reset, Version: version, Logger: c.logger(),
		Replies: conversation.Mode(*replies)})
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Printf("servers up in %s; seeding and federating…\n", time.Since(started).Round(time.Millisecond))
	return d.Run(ctx)
}
