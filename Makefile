# ogpnet: one binary, hub + nodes. See README.md.
GO        ?= go
PKGS      := ./...
STATICCHECK_VERSION := v0.8.2
BIN       := bin/ogpnet
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)
# The container image's binary (make static) and image (make image).
STATIC_BIN ?= bin/ogpnet-static
# Image tags drop the tag's "v" (v0.2.0 → :0.2.0), as the charts' appVersion does.
IMAGE     ?= ghcr.io/ogpnet/ogpnet:$(patsubst v%,%,$(VERSION))
ENGINE    ?= $(shell command -v podman 2>/dev/null || command -v docker 2>/dev/null)

.PHONY: build test demo bench bench-all lint fuzz screenshots tools clean static image charts

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ogpnet

# The whole suite: unit, store, federation over loopback, OIDC, browser tests.
test:
	bash .ci/install-chromium
	bash .ci/install-axe
	bash .ci/check-charts
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 14m $(PKGS)

# Lint, render and validate the Helm charts, build the image's static binary
# (also part of make test; see docs/operations.md, "What CI checks").
charts:
	bash .ci/check-charts

# The binary of the container image: static (no cgo, no libc), stripped;
# the Containerfile builds with this target.
static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o $(STATIC_BIN) ./cmd/ogpnet

# The container image, with podman or docker (ENGINE=… to choose).
image:
	@if [ -z "$(ENGINE)" ]; then echo "make image: no container engine found (install podman or docker, or set ENGINE)" >&2; exit 1; fi
	@$(ENGINE) info >/dev/null 2>&1 || { echo "make image: $(ENGINE) is installed but its engine does not answer ($(ENGINE) info failed)" >&2; exit 1; }
	$(ENGINE) build -f Containerfile --build-arg VERSION=$(VERSION) -t $(IMAGE) .

# Hub plus the 15 pilot nodes on http://*.localhost:8080 (see README).
# Build first, saying so: the first build compiles for about a minute, and
# `go run` would print nothing meanwhile. -v lists each package as it compiles
# (nothing when the build cache is warm).
demo:
	@echo "make demo: building $(BIN) (the first build takes about a minute; packages are listed as they compile)…"
	$(GO) build -v -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ogpnet
	@echo "make demo: starting the hub and the 15 pilot nodes…"
	./$(BIN) demo $(ARGS)

# The figures of docs/benchmarks.md: every BenchmarkFigure… of every package
# appends its row to bench/results.jsonl (internal/benchfig), then the report
# writes bench/results.json and prints the table (missing figures listed).
# About 10 minutes on 2 cores. BENCH=Regexp narrows the figures run.
BENCH      ?= .
FIGURE_PKGS = $(shell grep -rl --include='*_test.go' '^func BenchmarkFigure' . | xargs -r -n1 dirname | sort -u)
bench:
	@mkdir -p bench
	@rm -f bench/results.jsonl
	@status=0; pkgs="$(FIGURE_PKGS)"; \
	if [ -n "$$pkgs" ]; then \
		OGPNET_BENCH_RESULTS=$(CURDIR)/bench/results.jsonl $(GO) test -p 1 -run '^$$' -bench '^BenchmarkFigure.*$(BENCH)' -count 1 -timeout 10m $$pkgs || status=$$?; \
	fi; \
	$(GO) run ./internal/benchfig/report -in bench/results.jsonl -out bench/results.json || status=$$?; \
	exit $$status

# Every other benchmark (design §5's older figures, query latencies, signing).
bench-all:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./federation/... ./hub/... ./node/... ./cmd/ogpnet/demo/...

lint:
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)
	$$($(GO) env GOPATH)/bin/staticcheck $(PKGS)

# Each fuzz target for 20 s (raise FUZZTIME for a longer run).
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseSignatureHeader -fuzztime $(FUZZTIME) ./federation/httpsig
	$(GO) test -run '^$$' -fuzz FuzzDecodeActivity -fuzztime $(FUZZTIME) ./federation
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./federation/ogp
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./node/importer

# Screenshots for README.md (docs/img); CJK fonts for Seoul's names.
screenshots:
	bash .ci/install-chromium
	dpkg -s fonts-noto-cjk >/dev/null 2>&1 || apt-get install -y --no-install-recommends fonts-noto-cjk
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/screenshots --out docs/img

clean:
	rm -rf bin data
