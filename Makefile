# ogpnet: one binary, hub + nodes. See README.md.
GO        ?= go
PKGS      := ./...
STATICCHECK_VERSION := v0.8.2
BIN       := bin/ogpnet
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)

.PHONY: build test demo bench lint fuzz screenshots tools clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ogpnet

# The whole suite: unit, store, federation over loopback, OIDC, browser tests.
test:
	bash .ci/install-chromium
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 14m $(PKGS)

# Hub plus the 15 pilot nodes on http://*.localhost:8080 (see README).
demo:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/ogpnet demo $(ARGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./federation/... ./hub/... ./node/... ./internal/demo/...

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
	$(GO) run ./cmd/ogpnet screenshots --out docs/img

clean:
	rm -rf bin data
