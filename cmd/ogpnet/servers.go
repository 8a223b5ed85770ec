package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/ogpnet/ogpnet/federation/fetch"
	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/node"
	"github.com/ogpnet/ogpnet/node/conversation"
)

// serverFlags are the flags ogpnet node and ogpnet hub share: the common
// ones, operator or staff login, and the private addresses they may fetch
// from.
type serverFlags struct {
	common
	oidc  oidcFlags
	allow string
	pprof pprofFlags
}

// newServerFlags returns the flag set of a server command with the shared
// flags registered.
func newServerFlags(name, defaultData string) (*flag.FlagSet, *serverFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	s := &serverFlags{}
	s.common.register(fs, ":8080", defaultData)
	s.oidc.register(fs)
	fs.StringVar(&s.allow, "allow-private", "", "comma-separated CIDRs of private addresses this server may fetch from")
	s.pprof.register(fs)
	return fs, s
}

// started is what start opened: the caller closes the listener and the
// store (close).
type started struct {
	log   *slog.Logger
	guard fetch.Guard
	ln    net.Listener
	pprof net.Listener // --pprof-addr, nil when off
	st    *store.Store
}

func (s *started) close() {
	if s.ln != nil {
		_ = s.ln.Close()
	}
	if s.pprof != nil {
		_ = s.pprof.Close()
	}
	if s.st != nil {
		closeStore(s.st)
	}
}

// start is what every server command does first: read the flags (args,
// then OGPNET_* variables), check the required ones, the shared ones and
// the command's own (check), all before anything is created; then make the
// logger, bind --addr and open the store (MongoDB or the embedded one in
// --data). On error nothing stays open.
func (s *serverFlags) start(ctx context.Context, fs *flag.FlagSet, args []string, check func() error, required ...string) (*started, error) {
	if err := parse(fs, args, required...); err != nil {
		return nil, err
	}
	if err := checks(s.validate, check); err != nil {
		return nil, err
	}
	g, err := guard(s.allow)
	if err != nil {
		return nil, err
	}
	r := &started{log: s.logger(), guard: g}
	if r.ln, err = listen(s.addr); err != nil {
		return nil, err
	}
	if r.pprof, err = s.pprof.listen(); err != nil {
		r.close()
		return nil, err
	}
	if r.st, err = s.openStore(ctx, r.log); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// oidcFlags configure operator (node) or staff (hub) login.
type oidcFlags struct {
	issuer, clientID, clientSecret, domains, groupsClaim, groups string
}

func (o *oidcFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.issuer, "oidc-issuer", "", "OpenID Connect issuer URL of the government's identity provider")
	fs.StringVar(&o.clientID, "oidc-client-id", "", "OIDC client id")
	fs.StringVar(&o.clientSecret, "oidc-client-secret", "", "OIDC client secret")
	fs.StringVar(&o.domains, "operator-domains", "", "comma-separated e-mail domains whose verified users are operators")
	fs.StringVar(&o.groupsClaim, "groups-claim", "", "ID-token claim listing the user's groups (e.g. groups)")
	fs.StringVar(&o.groups, "operator-groups", "", "comma-separated groups that make a user an operator")
}

func (o *oidcFlags) config(base string) auth.Config {
	return auth.Config{
		Issuer: o.issuer, ClientID: o.clientID, ClientSecret: o.clientSecret,
		RedirectURL:         strings.TrimRight(base, "/") + "/auth/callback",
		AllowedEmailDomains: splitList(o.domains),
		GroupsClaim:         o.groupsClaim, AllowedGroups: splitList(o.groups),
		SecureCookies: strings.HasPrefix(base, "https://"),
	}
}

func guard(allow string) (fetch.Guard, error) {
	var g fetch.Guard
	for _, p := range splitList(allow) {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return g, usagef("--allow-private %q: not a CIDR prefix such as 10.0.0.0/8", p)
		}
		g.Allow = append(g.Allow, prefix)
	}
	return g, nil
}

func newRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

func runNode(ctx context.Context, args []string) error {
	fs, c := newServerFlags("node", "./data/node")
	slug := fs.String("name", "", "the node's slug and actor name, e.g. jalisco (required)")
	base := fs.String("url", "", "public base URL, e.g. https://ogp.jalisco.gob.mx (required)")
	display := fs.String("display-name", "", "the government's display name (default: the slug)")
	lang := fs.String("lang", "en", "default content language (BCP 47)")
	langs := fs.String("languages", "", "comma-separated languages the node publishes (default: --lang and en)")
	replies := fs.String("replies", "review", "replies from the fediverse: open (shown at once), review (held for an operator) or off (refused, but from the hub and its members)")
	replyRate := fs.Int("reply-rate", conversation.DefaultRatePerHour, "replies one account may send per hour; more are refused (429)")
	hubURL := fs.String("hub-url", "", "public base URL of the OGP hub that follows this node; pages link to it (optional)")
	check := func() error {
		return checks(
			func() error { return checkReplies(*replies, *replyRate) },
			func() error {
				if *hubURL == "" {
					return nil
				}
				return checkBaseURL("--hub-url", *hubURL)
			},
			func() error { return checkSlug("--name", *slug) },
			func() error { return checkBaseURL("--url", *base) },
			func() error { return checkText("--display-name", *display, 200) },
			func() error { return checkLang("--lang", *lang) },
			func() error {
				for _, l := range splitList(*langs) {
					if err := checkLang("--languages", l); err != nil {
						return err
					}
				}
				return nil
			},
		)
	}
	r, err := c.start(ctx, fs, args, check, "name", "url")
	if err != nil {
		return err
	}
	defer r.close()
	log, g, st := r.log, r.guard, r.st
	name := *display
	if name == "" {
		name = *slug
	}
	languages := splitList(*langs)
	if len(languages) == 0 {
		languages = []string{*lang}
		if *lang != "en" {
			languages = append(languages, "en")
		}
	}
	n, err := node.New(ctx, node.Config{
		BaseURL: *base, Slug: *slug, Name: name, Lang: *lang, Languages: languages, HubURL: *hubURL,
		DB: st.DB("ogpnet_" + dbSafe(*slug)), Auth: c.oidc.config(*base), Guard: g,
		Version: version, Logger: log, Metrics: newRegistry(), Timeouts: serverTimeouts,
		Replies: conversation.Mode(*replies), ReplyRatePerHour: *replyRate,
	})
	if err != nil {
		return err
	}
	log.Info("node listening", "addr", r.ln.Addr().String(), "url", *base, "actor", n.Federation().ActorID())
	return runAll(ctx, func(ctx context.Context) error { return serve(ctx, log, r.ln, n.Handler()) }, n.Run)
}

func runHub(ctx context.Context, args []string) error {
	fs, c := newServerFlags("hub", "./data/hub")
	base := fs.String("url", "", "public base URL, e.g. https://hub.opengovpartnership.example (required)")
	display := fs.String("display-name", "OGP subnational learning hub", "the hub's display name")
	members := fs.String("members", "", "comma-separated handles or actor URLs to follow at start")
	backfill := fs.Duration("backfill-interval", 10*time.Minute, "how often to page members' outboxes")
	groupPosts := fs.String("group-posts", "review", "posts addressed to the hub's Group by non-members: review (held for staff), open (shown and announced at once) or off (refused)")
	check := func() error {
		return checks(
			func() error { return checkGroupPosts(*groupPosts) },
			func() error { return checkBaseURL("--url", *base) },
			func() error { return checkText("--display-name", *display, 200) },
			func() error {
				for _, m := range splitList(*members) {
					if err := checkMember(m); err != nil {
						return err
					}
				}
				return nil
			},
			func() error { return checkPositive("--backfill-interval", *backfill) },
		)
	}
	r, err := c.start(ctx, fs, args, check, "url")
	if err != nil {
		return err
	}
	defer r.close()
	log, g, st := r.log, r.guard, r.st
	h, err := hub.New(ctx, hub.Config{
		BaseURL: *base, Name: *display, Lang: "en", DB: st.DB("ogpnet_hub"),
		Auth: c.oidc.config(*base), Guard: g, BackfillInterval: *backfill, GroupPosts: discussion.GroupPosts(*groupPosts),
		Version: version, Logger: log, Metrics: newRegistry(), Timeouts: serverTimeouts,
	})
	if err != nil {
		return err
	}
	log.Info("hub listening", "addr", r.ln.Addr().String(), "url", *base, "actor", h.Federation().ActorID())
	follow := func(ctx context.Context) error {
		for _, m := range splitList(*members) {
			if _, err := h.AddMember(ctx, m); err != nil {
				log.Warn("could not add member", "member", m, "err", err)
			}
		}
		return nil
	}
	return runAll(ctx, func(ctx context.Context) error { return serve(ctx, log, r.ln, h.Handler()) }, h.Run, follow)
}

// runAll runs fns until ctx ends or one fails; all stop together.
func runAll(ctx context.Context, fns ...func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, fn := range fns {
		g.Go(func() error { return fn(ctx) })
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// openStore opens MongoDB at --mongo-uri, or the embedded store in --data.
func (c *common) openStore(ctx context.Context, log *slog.Logger) (*store.Store, error) {
	return store.Open(ctx, store.Options{URI: c.mongoURI, DataDir: c.data, Logger: log})
}

func closeStore(st *store.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = st.Close(ctx)
}

// dbSafe maps a slug to a database-name-safe string.
func dbSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(s))
}
