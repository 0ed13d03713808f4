#!/usr/bin/env bash
# Installs what building, mounting and testing pan123fs need on a Debian
# machine: Go (expected at /usr/local/go or on PATH) and fuse3 (fusermount3).
set -euo pipefail
export PATH=/usr/local/go/bin:$PATH

if ! command -v go >/dev/null 2>&1; then
	echo "deps: Go is not installed; install Go 1.26 or newer (https://go.dev/dl) into /usr/local/go" >&2
	exit 1
fi

if ! command -v fusermount3 >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "deps: installing fuse3" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q fuse3 >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fuse3 >/dev/null; }
	else
		echo "deps: fusermount3 missing: run 'sudo apt-get install fuse3'" >&2
		exit 1
	fi
fi

if [ ! -e /dev/fuse ]; then
	echo "deps: /dev/fuse is missing: load the fuse module (modprobe fuse)" >&2
	exit 1
fi
