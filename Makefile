# pan123fs — build, run, test. See README.md.
export PATH := /usr/local/go/bin:$(PATH)
GO      ?= go
BIN     := bin/pan123fs
MNT     ?= /tmp/pan123fs
TESTFLAGS ?= -race -timeout 20m

.PHONY: all build deps test-deps run test lint fuzz clean

all: build

deps:
	@bash scripts/deps.sh

build:
	$(GO) build -o $(BIN) ./cmd/pan123fs

# The main job: mount the embedded emulator at $(MNT) (Ctrl-C unmounts).
# ARGS='--backend wechat-cloudbase' mounts the WeChat CloudBase emulator.
run: deps build
	mkdir -p $(MNT)
	$(BIN) mount --emulator $(MNT) $(ARGS)

lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The test command CI runs (.ci/run).
test: test-deps lint build
	$(GO) test $(TESTFLAGS) ./...

test-deps:
	@bash scripts/deps.sh --test

fuzz:
	$(GO) test ./remote/wire -run '^$$' -fuzz FuzzValidateName -fuzztime 30s
	$(GO) test ./remote -run '^$$' -fuzz FuzzDecodeEnvelope -fuzztime 30s

clean:
	rm -rf bin

# Benchmark: a 1 GiB upload through remote.Client against the emulator run as
# a separate process, with one curl PUT of the same file as the baseline.
.PHONY: bench-upload
bench-upload: build
	$(GO) run ./tools/benchupload -pan123fs $(BIN) -size 1GiB

# Benchmark: the scenarios of tools/bench (cp, reads, small files, rate
# limits, deletes, listings, thumbnails, memory) against an emulator and
# mounts run as separate processes; prints a table and writes
# bench-results.json. `make bench BENCHFLAGS=-quick` for a smoke run.
# `make bench BENCHFLAGS='-backend wechat-cloudbase'` (or `make
# bench-wechat`) runs the WeChat CloudBase backend's set instead: small
# files against raw API uploads, renames, rm -r, a listing.
.PHONY: bench bench-wechat
bench: build
	$(GO) run ./tools/bench -pan123fs $(BIN) $(BENCHFLAGS)

bench-wechat: build
	$(GO) run ./tools/bench -pan123fs $(BIN) -backend wechat-cloudbase $(BENCHFLAGS)

# pjdfstest, the POSIX conformance suite, from inside a mount of the
# embedded emulator: a developer tool, not part of CI. It fetches nothing:
# `PJDFSTEST_SRC=DIR make pjdfstest` builds the suite in DIR, a copy of
# github.com/pjd/pjdfstest you provide (without one it says how, and skips).
# Runs as root. SEMANTICS.md ("pjdfstest") says which failures are by design.
.PHONY: pjdfstest
pjdfstest: build
	@PJDFSTEST_SRC="$(PJDFSTEST_SRC)" bash scripts/pjdfstest.sh

# Install the binary, and the mount helper links where mount(8) looks for
# them (util-linux searches /sbin, /sbin/fs.d and /sbin/fs; on Debian /sbin
# is /usr/sbin): `mount -t fuse.pan123fs` and fstab lines of that type run
# mount.fuse.pan123fs, `mount -t pan123fs` runs mount.pan123fs.
PREFIX  ?= /usr/local
SBINDIR ?= /sbin
HELPERS := mount.fuse.pan123fs mount.pan123fs
.PHONY: install uninstall
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/pan123fs
	install -d $(DESTDIR)$(SBINDIR)
	for h in $(HELPERS); do ln -sfn $(PREFIX)/bin/pan123fs $(DESTDIR)$(SBINDIR)/$$h; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pan123fs $(addprefix $(DESTDIR)$(SBINDIR)/,$(HELPERS))
