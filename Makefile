# corsbridge: make run serves on :8080, make test runs every test.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
GOBIN := $(shell $(GO) env GOPATH)/bin
FUZZTIME ?= 30s

.PHONY: run test deps lint unit build fuzz

run:
	$(GO) run ./cmd/corsbridge

# The release build, and the one the Dockerfile runs: a static binary (no
# cgo, so it runs on distroless or scratch), no local paths in it, the
# version linked in for --version. cmd/corsbridge's image test runs this
# same target.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
BIN ?= bin/corsbridge
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/corsbridge

# Everything: formatting, vet, staticcheck, then all tests with the race
# detector, including the Redis tests (they start their own redis-server
# when REDIS_URL is unset) and the real-browser tests.
test: deps lint unit

deps:
	@./scripts/ensure-deps.sh
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GOBIN)/staticcheck ./...

unit:
	$(GO) test -race -count=1 ./...

# A bounded soak (loopback only, stops by itself): mixed traffic through two
# instances sharing a Redis that is restarted midway. Exits 1 on any
# unexpected error.
SOAK_DURATION ?= 5m
.PHONY: soak
soak:
	@./scripts/ensure-deps.sh
	$(GO) run ./internal/tools/soak -duration $(SOAK_DURATION)

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$target"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

# Load benchmark against the reference proxies (issues 7 and 17,
# docs/performance.md): a plain ReverseProxy, nginx, cors-anywhere, and wrk
# straight at the upstream, each in front of a plain HTTP upstream and of an
# HTTPS one (TLS 1.3, HTTP/2, a CA made for the run), plus cache hits against
# nginx's proxy_cache. Installs wrk, nginx,
# redis-server and node via apt and cors-anywhere via npm when missing, best
# effort: a reference that cannot be had is skipped with a note. About 15
# minutes with the defaults; BENCH_FLAGS="-help" lists the flags.
BENCH_FLAGS ?=
BENCH_CACHE ?= $(HOME)/.cache/corsbridge-bench
.PHONY: bench
bench:
	@need=""; \
	for p in wrk:wrk nginx:nginx-light redis-server:redis-server node:nodejs npm:npm taskset:util-linux; do \
		command -v $${p%%:*} >/dev/null 2>&1 || [ -x /usr/sbin/$${p%%:*} ] || need="$$need $${p#*:}"; \
	done; \
	if [ -n "$$need" ]; then \
		echo "bench: installing$$need" >&2; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		{ $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$need >/dev/null; } \
			|| echo "bench: could not install$$need; what is missing is skipped" >&2; \
	fi; \
	if [ ! -f "$(BENCH_CACHE)/cors-anywhere/node_modules/cors-anywhere/package.json" ]; then \
		npm install --silent --no-audit --no-fund --prefix "$(BENCH_CACHE)/cors-anywhere" cors-anywhere@0.4.4 >/dev/null \
			|| echo "bench: npm install cors-anywhere failed; it is skipped" >&2; \
	fi
	$(GO) build -o bin/corsbridge-bench ./internal/tools/bench
	bin/corsbridge-bench -cache "$(BENCH_CACHE)" $(BENCH_FLAGS)
