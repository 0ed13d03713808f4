#!/usr/bin/env bash
# Runs pjdfstest (https://github.com/pjd/pjdfstest) from inside a pan123fs
# mount of the embedded emulator and prints, per group, the test programs
# and subtests that failed, as prove counts them. A developer tool, not part
# of CI; SEMANTICS.md ("pjdfstest") says which failures are by design.
#
#   scripts/pjdfstest.sh [PJDFSTEST_SRC] [GROUP...]    (or: make pjdfstest)
#
# It fetches nothing. PJDFSTEST_SRC (the first argument, or the variable) is
# a copy of the pjdfstest sources you provide; it is built there (autoreconf,
# configure, make: autoconf, automake, gcc and make needed) unless
# PJDFSTEST_SRC/pjdfstest exists. Without it the run is skipped (exit 0).
#
# Settings (environment): PAN123FS, the binary (default bin/pan123fs);
# PJDFSTEST_GROUPS, the groups (default: mkdir rmdir unlink rename open
# truncate ftruncate); PJDFSTEST_MOUNT_FLAGS, more flags for the mount;
# PJDFSTEST_LOGS, where prove's and the mount's logs go (default: a new
# folder under the temporary directory, named at the end).
#
# pjdfstest changes uids, so it must run as root. The mount is always
# unmounted, also when the run is interrupted.
set -euo pipefail

src=${PJDFSTEST_SRC:-}
if [ $# -gt 0 ]; then
	src=$1
	shift
fi
if [ -z "$src" ]; then
	cat <<'EOF'
pjdfstest: skipped: no pjdfstest sources given, and this script fetches nothing.
  Get a copy yourself, once:  git clone https://github.com/pjd/pjdfstest ~/src/pjdfstest
  then run:                   PJDFSTEST_SRC=~/src/pjdfstest make pjdfstest
                        or:   scripts/pjdfstest.sh ~/src/pjdfstest [GROUP...]
EOF
	exit 0
fi
if [ ! -f "$src/pjdfstest.c" ] || [ ! -d "$src/tests" ]; then
	echo "pjdfstest: $src is not a pjdfstest source tree (no pjdfstest.c and tests/)" >&2
	exit 2
fi
src=$(cd "$src" && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "pjdfstest: must run as root (its tests change uids and owners)" >&2
	exit 2
fi
groups=${PJDFSTEST_GROUPS:-mkdir rmdir unlink rename open truncate ftruncate}
if [ $# -gt 0 ]; then
	groups="$*"
fi
for g in $groups; do
	if [ ! -d "$src/tests/$g" ]; then
		echo "pjdfstest: no group $g in $src/tests" >&2
		exit 2
	fi
done
bin=${PAN123FS:-bin/pan123fs}
if [ ! -x "$bin" ]; then
	echo "pjdfstest: no pan123fs binary at $bin (make build, or set PAN123FS)" >&2
	exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

if [ ! -x "$src/pjdfstest" ]; then
	echo "pjdfstest: building $src/pjdfstest"
	(
		cd "$src"
		[ -x configure ] || autoreconf -ifs
		[ -f Makefile ] || ./configure
		make pjdfstest
	) >"${TMPDIR:-/tmp}/pjdfstest-build.log" 2>&1 || {
		echo "pjdfstest: the build failed; see ${TMPDIR:-/tmp}/pjdfstest-build.log" >&2
		exit 2
	}
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pan123fs-pjdfstest.XXXXXX")
logs=${PJDFSTEST_LOGS:-$work/logs}
mkdir -p "$logs"
mnt=$work/mnt
mkdir "$mnt"
pid=

cleanup() {
	if mountpoint -q "$mnt"; then
		fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null || umount -l "$mnt"
	fi
	if [ -n "$pid" ]; then
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work/state"
	rmdir "$mnt" 2>/dev/null || true # never rm -r: it could still be the mount
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every endpoint unlimited: the emulator sets no rate, and the free
# account's table would make the run take hours.
# (The WeChat CloudBase backend has no rate table: PJDFSTEST_MOUNT_FLAGS=
# '--backend wechat-cloudbase' runs the suite on it.)
rates=(--rate-limit info=0,move=0,delete=0,list=0,mkdir=0,create=0,get_upload_url=0,list_upload_parts=0,upload_complete=0,upload_async_result=0,detail=0)
case " ${PJDFSTEST_MOUNT_FLAGS:-} " in
*" --backend wechat-cloudbase "* | *" --backend=wechat-cloudbase "*) rates=() ;;
esac
# shellcheck disable=SC2086 # PJDFSTEST_MOUNT_FLAGS is a list of flags
"$bin" mount --emulator --state-dir "$work/state" "${rates[@]}" \
	--log-file "$logs/mount.log" ${PJDFSTEST_MOUNT_FLAGS:-} "$mnt" &
pid=$!
for _ in $(seq 300); do
	mountpoint -q "$mnt" && break
	if ! kill -0 "$pid" 2>/dev/null; then
		pid=
		echo "pjdfstest: the mount failed; see $logs/mount.log" >&2
		exit 2
	fi
	sleep 0.1
done
if ! mountpoint -q "$mnt"; then
	echo "pjdfstest: no mount at $mnt after 30 s; see $logs/mount.log" >&2
	exit 2
fi

# summary prints prove's counts for one group: the test programs that
# failed (Test Summary Report lines) and the subtests that failed, each out
# of the totals of prove's Files=, Tests= line.
summary() {
	awk -v g="$1" '
		/^[^ ].*\.t \(Wstat: / { progs++; match($0, /Failed: [0-9]+/); subs += substr($0, RSTART + 8, RLENGTH - 8) }
		/^Files=[0-9]+, Tests=[0-9]+,/ { split($0, a, /[=,]/); files = a[2]; tests = a[4] }
		END { printf "%-10s %-22s %s\n", g, (progs + 0) "/" (files == "" ? "?" : files), (subs + 0) "/" (tests == "" ? "?" : tests) }
	' "$2"
}

echo "pjdfstest: $("$bin" --version 2>/dev/null | head -1 || true) mounted at $mnt"
printf '%-10s %-22s %s\n' group "programs failed/total" "subtests failed/total"
for g in $groups; do
	mkdir "$mnt/$g"
	(cd "$mnt/$g" && prove -r "$src/tests/$g") >"$logs/$g.log" 2>&1 || true
	summary "$g" "$logs/$g.log"
done
echo "pjdfstest: prove's output per group, and the mount's log, are in $logs"
