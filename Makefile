# corsbridge: make run serves on :8080, make test runs every test.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
GOBIN := $(shell $(GO) env GOPATH)/bin
FUZZTIME ?= 30s

.PHONY: run test deps lint unit build fuzz

run:
	$(GO) run ./cmd/corsbridge

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/corsbridge ./cmd/corsbridge

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

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$target"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done
