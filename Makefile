# docker-tls: build, install, test, lint, bench.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/docker-tls
# Docker looks for CLI plugins in $DOCKER_CONFIG/cli-plugins (~/.docker/cli-plugins).
PLUGIN_DIR ?= $(if $(DOCKER_CONFIG),$(DOCKER_CONFIG),$(HOME)/.docker)/cli-plugins

.PHONY: all build install test unit race oracle oracle-cli e2e lint bench fuzz fixtures clean cross cross-check release deb-e2e

# The six release targets: make cross builds bin/docker-tls-GOOS-GOARCH[.exe].
CROSS_TARGETS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./plugin

# make install: into your own plugin dir. System-wide, so that root and
# `sudo docker tls` find it (root's docker does not look in your home):
#   make build && sudo make install PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
# As root, install copies the bin/docker-tls that make build made (building
# it only when it is missing), so sudo needs no Go and leaves no root-owned
# build cache.
install:
	@if [ "$$(id -u)" != 0 ] || [ ! -x $(BIN) ]; then $(MAKE) --no-print-directory build; fi
	mkdir -p $(PLUGIN_DIR)
	install -m 0755 $(BIN) $(PLUGIN_DIR)/docker-tls
	@echo "installed $(PLUGIN_DIR)/docker-tls: run 'docker tls doctor'"

# Lint (gofmt, vet, staticcheck), unit tests, the unit tests again under
# the race detector, the differential suites against the loaders' own code,
# the other OSes' vet and test builds, then the end-to-end harness against
# real dockerd and registries.
test: build lint unit race oracle oracle-cli cross-check e2e

cross:
	@set -e; for t in $(CROSS_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "GOOS=$$os GOARCH=$$arch -> $(BIN)-$$os-$$arch$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)-$$os-$$arch$$ext ./plugin; \
	done

# make release: archives for the six targets, a checksum file and the
# docker-tls-plugin .deb and .rpm in dist/, by goreleaser in snapshot mode
# (nothing is published). goreleaser is pinned and installed into bin/tools.
GORELEASER_VERSION := v2.15.1
GORELEASER := bin/tools/goreleaser
$(GORELEASER).$(GORELEASER_VERSION):
	GOBIN=$(CURDIR)/bin/tools $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	touch $@

release: $(GORELEASER).$(GORELEASER_VERSION)
	DOCKER_TLS_COMMIT=$$(git rev-parse --short HEAD) $(GORELEASER) release --snapshot --clean
	@ls -l dist/*.tar.gz dist/*.zip dist/*.deb dist/*.rpm dist/*checksums.txt

# The .deb end to end, as root: dpkg -i, docker tls version as root and as
# nobody with an empty home, dpkg -r removes every file (in a private mount
# namespace over copies of the dpkg database and /usr/libexec).
deb-e2e: release
	bash scripts/pkgtest/deb.sh dist/docker-tls-plugin_*_$$(dpkg --print-architecture).deb

# go vet and every package's test binary (built, not run) for macOS and
# Windows. scripts/e2e is linux-only (namespaces, a real dockerd): its files
# carry //go:build linux and the package is left out here.
cross-check:
	@set -e; for os in darwin windows; do \
		echo "GOOS=$$os go vet ./... && go test -c (every package)"; \
		pkgs=$$(GOOS=$$os $(GO) list ./... | grep -v /scripts/e2e); \
		GOOS=$$os $(GO) vet $$pkgs; \
		rm -rf bin/testc-$$os; mkdir -p bin/testc-$$os; \
		GOOS=$$os $(GO) test -c -o bin/testc-$$os/ $$pkgs; \
	done

unit:
	$(GO) vet ./...
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /scripts/e2e)

# The unit packages under the race detector (needs cgo: a C compiler). The
# e2e harness is left out: it drives whole processes, not goroutines.
race:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /scripts/e2e)

# Differential tests: the registry loaders' own code (containerd, moby,
# containers/image) against pki/loader, in a test-only module.
ORACLE_FUZZTIME ?= 3s
oracle:
	cd scripts/oracle/registry && $(GO) vet . && $(GO) test -count=1 . && \
		$(GO) test -count=1 -run '^$$' -fuzz '^FuzzTree$$' -fuzztime $(ORACLE_FUZZTIME) . && \
		$(GO) test -count=1 -run '^$$' -fuzz '^FuzzMirror$$' -fuzztime $(ORACLE_FUZZTIME) . && \
		$(GO) test -count=1 -run '^$$' -fuzz '^FuzzRegistryErrorText$$' -fuzztime $(ORACLE_FUZZTIME) .

# Differential test (a test-only module): docker/cli v29's own code against
# pki/loader's model of the CLI's client TLS, on a generated corpus, then
# briefly fuzzed.
ORACLE_CLI_FUZZTIME ?= 10s
oracle-cli:
	cd scripts/oracle/cli && $(GO) vet ./... && $(GO) test -count=1 ./... && \
		$(GO) test -run '^$$' -fuzz '^FuzzCLI$$' -fuzztime $(ORACLE_CLI_FUZZTIME) .

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

# staticcheck is pinned and installed into bin/tools (git-ignored), like
# goreleaser; it checks the module and the test-only oracle modules.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := bin/tools/staticcheck
$(STATICCHECK).$(STATICCHECK_VERSION):
	GOBIN=$(CURDIR)/bin/tools $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	touch $@

lint: $(STATICCHECK).$(STATICCHECK_VERSION)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd scripts/oracle/registry && $(CURDIR)/$(STATICCHECK) ./...
	cd scripts/oracle/cli && $(CURDIR)/$(STATICCHECK) ./...

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
	rm -rf bin .bench dist
