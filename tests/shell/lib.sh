# Shared by the shell tests of the OpenWrt files (tests/shell/test-*.sh), sourced by them.
# Run a test as `busybox sh tests/shell/test-init.sh` from anywhere (tests/openwrt.rs does).
#
# setup makes a fresh temp dir $T with
#   $ROOT  a fake router root: etc/config, etc/init.d, etc/hotplug.d/iface, etc/ssl/certs
#   $LOG   what the stand-ins recorded (record.sh): procd.log, ubus.log, dynhost.log, ...
#   $STATE what the stand-ins answer: procd (running|stopped|nothing), dynhost.sleep
# and a PATH of only the stand-ins (standins/bin) and busybox's applets, like a router: no
# GNU tool, no real ubus, logger or dynhost can answer in their place.
#
# Checks print `ok - ...` or `not ok - ...` (with details); finish prints the counts and
# fails when any check failed.

TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$TESTS/../.." && pwd)
STANDINS_SRC="$TESTS/standins"
FILES="$REPO/openwrt/files"
EVENTS="$TESTS/hotplug-iface-events.env"
PASSED=0
FAILED=0

BUSYBOX=${BUSYBOX:-$(command -v busybox)}
[ -n "$BUSYBOX" ] || { echo "busybox not found" >&2; exit 2; }

setup() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/dynhost-shell.XXXXXX") || exit 2
	trap 'rm -rf "$T"' EXIT
	ROOT="$T/root"
	LOG="$T/log"
	STATE="$T/state"
	mkdir -p "$ROOT/etc/config" "$ROOT/etc/init.d" "$ROOT/etc/hotplug.d/iface" \
		"$ROOT/etc/ssl/certs" "$LOG" "$STATE" "$T/busybox"
	: >"$ROOT/etc/ssl/certs/ca-certificates.crt"
	# Copies, so that nothing depends on the mode bits of the checkout.
	cp -R "$STANDINS_SRC" "$T/standins"
	chmod +x "$T/standins/bin/"* "$T/standins/sbin/"*
	for applet in $("$BUSYBOX" --list); do
		ln -s "$BUSYBOX" "$T/busybox/$applet"
	done
	PATH="$T/standins/bin:$T/busybox"
	DYNHOST_STANDINS="$T/standins"
	DYNHOST_TEST_ROOT="$ROOT"
	DYNHOST_TEST_LOG="$LOG"
	DYNHOST_TEST_STATE="$STATE"
	export PATH DYNHOST_STANDINS DYNHOST_TEST_ROOT DYNHOST_TEST_LOG DYNHOST_TEST_STATE
	unset IPKG_INSTROOT INIT_TRACE UCI_CONFIG_DIR
}

# Forgets what the stand-ins recorded.
reset_logs() {
	rm -f "$LOG"/*.log "$STATE/dynhost.finished"
}

# procd_state running|stopped|none: what procd (and ubus service list) says about dynhost.
procd_state() {
	if [ "$1" = none ]; then
		rm -f "$STATE/procd"
	else
		echo "$1" >"$STATE/procd"
	fi
}

# write_config < TEXT: /etc/config/dynhost of the fake root.
write_config() {
	cat >"$ROOT/etc/config/dynhost"
}

# The lines of stand-in log NAME (empty when it was never called).
log_of() {
	cat "$LOG/$1.log" 2>/dev/null
}

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - $1"
}

not_ok() {
	FAILED=$((FAILED + 1))
	echo "not ok - $1"
	shift
	for detail in "$@"; do
		printf '%s\n' "$detail" | sed 's/^/#   /'
	done
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
	description=$1
	shift
	if "$@"; then
		ok "$description"
	else
		not_ok "$description" "failed: $*"
	fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected:" "$2" "actual:" "$3"
	fi
}

# check_contains DESCRIPTION TEXT NEEDLE: NEEDLE is a fixed string.
check_contains() {
	case "$2" in
		*"$3"*) ok "$1" ;;
		*) not_ok "$1" "missing: $3" "in:" "$2" ;;
	esac
}

# check_lacks DESCRIPTION TEXT NEEDLE
check_lacks() {
	case "$2" in
		*"$3"*) not_ok "$1" "unexpected: $3" "in:" "$2" ;;
		*) ok "$1" ;;
	esac
}

# check_no_secret DESCRIPTION SECRET: SECRET is in no recorded call (all.log: every argv and
# every procd_* / json_* call), nor in any captured output ($T/out.*, $T/err.*).
check_no_secret() {
	found=$(grep -rlF -- "$2" "$LOG" "$T"/out.* "$T"/err.* 2>/dev/null)
	if [ -z "$found" ]; then
		ok "$1"
	else
		not_ok "$1" "the secret $2 is in:" "$found" "$(grep -rhF -- "$2" "$LOG" "$T"/out.* "$T"/err.* 2>/dev/null)"
	fi
}

# Centiseconds since boot (busybox's date has no %N).
now_cs() {
	read -r uptime _ </proc/uptime
	echo "$uptime" | tr -d '.'
}

finish() {
	echo "# $(basename "$0"): $PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
}
