#!/usr/bin/env bash
# Installs what building, mounting and testing pan123fs need on a Debian
# machine: Go (expected at /usr/local/go or on PATH), fuse3 (fusermount3),
# and with --test what the tests drive: GLib's gio, Xvfb, xdotool, PCManFM,
# promtool, systemd-analyze.
set -euo pipefail
export PATH=/usr/local/go/bin:$PATH

if ! command -v go >/dev/null 2>&1; then
	echo "deps: Go is not installed; install Go 1.26 or newer (https://go.dev/dl) into /usr/local/go" >&2
	exit 1
fi

# need COMMAND PACKAGE: installs the Debian package that brings COMMAND.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "deps: installing $2" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; }
	else
		echo "deps: $1 missing: run 'sudo apt-get install $2'" >&2
		exit 1
	fi
}

need fusermount3 fuse3
if [ "${1:-}" = --test ]; then
	# The tests act as a desktop does: GLib's gio (trash, file info), and
	# a file manager (PCManFM) in an X server of its own, driven by xdotool.
	need gio libglib2.0-bin
	need Xvfb xvfb
	need xdotool xdotool
	need pcmanfm pcmanfm
	# promtool checks what /metrics serves, and one test has a Prometheus
	# server on loopback scrape a mount; Debian ships promtool only inside
	# the prometheus package (about 95 MB installed; no service is started).
	need promtool prometheus
	# systemd-analyze verify checks contrib/systemd's units.
	need systemd-analyze systemd
fi

if [ ! -e /dev/fuse ]; then
	echo "deps: /dev/fuse is missing: load the fuse module (modprobe fuse)" >&2
	exit 1
fi
