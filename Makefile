# docker-tls: build, install, test, lint, bench.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/docker-tls
# Docker looks for CLI plugins in $DOCKER_CONFIG/cli-plugins (~/.docker/cli-plugins).
PLUGIN_DIR ?= $(if $(DOCKER_CONFIG),$(DOCKER_CONFIG),$(HOME)/.docker)/cli-plugins

.PHONY: all build install test unit oracle-cli e2e lint bench fuzz fixtures clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./plugin

install: build
	mkdir -p $(PLUGIN_DIR)
	install -m 0755 $(BIN) $(PLUGIN_DIR)/docker-tls
	@echo "installed $(PLUGIN_DIR)/docker-tls: run 'docker tls doctor'"

# Unit tests, then the end-to-end harness against a real dockerd and registry.
test: build unit oracle-cli e2e

unit:
	$(GO) vet ./...
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /scripts/e2e)

# Differential test (a test-only module): docker/cli v29's own code against
# pki/loader's model of the CLI's client TLS, on a generated corpus, then
# briefly fuzzed.
ORACLE_FUZZTIME ?= 10s
oracle-cli:
	cd scripts/oracle/cli && $(GO) vet ./... && $(GO) test -count=1 ./... && \
		$(GO) test -run '^$$' -fuzz '^FuzzCLI$$' -fuzztime $(ORACLE_FUZZTIME) .

# The e2e daemon matrix (scripts/e2e/matrix.go): CELL=dockerd-20.10,
# dockerd-28.5-classic or dockerd-28.5-containerd (comma-separated) runs only
# those cells; the default is all three. The dockerd 28.5, containerd 2.4 and
# registry 3 binaries are built once into E2E_CACHE; if that fails, the cells
# that need them fail, naming the cell.
CELL      ?=
E2E_CACHE ?= $(CURDIR)/.cache/e2e

e2e: build
	@if [ "$(CELL)" != dockerd-20.10 ]; then \
		E2E_CACHE='$(E2E_CACHE)' GO='$(GO)' bash scripts/e2e/build-binaries.sh || \
		echo "make e2e: continuing without them: the cells that need them will fail"; fi
	DOCKER_TLS_BIN=$(CURDIR)/$(BIN) E2E_CACHE='$(E2E_CACHE)' E2E_CELLS='$(CELL)' $(GO) test -count=1 -timeout 45m ./scripts/e2e/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench: build
	BENCH_BUILD_FLAGS="-trimpath -ldflags='$(LDFLAGS)'" bash scripts/bench/run.sh

# Fuzz every target in turn for FUZZTIME each (crashers are kept in the
# package's testdata/fuzz as regression tests).
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	FuzzSniff:./pki FuzzParseSANs:./pki FuzzParseFingerprint:./pki \
	FuzzParseRegistryHost:./pki/layout \
	FuzzDaemonJSON:./pki/daemoncfg FuzzExecStart:./pki/daemoncfg \
	FuzzParseTarget:./doctor/probe

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "$(GO) test -run '^\$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

clean:
	rm -rf bin .bench
