#!/bin/sh
# /etc/hotplug.d/iface/95-dynhost (openwrt/files/dynhost.hotplug) under busybox sh, run by a
# stand-in /sbin/hotplug-call with the environment of each netifd event in
# hotplug-iface-events.env (a copy of shared/fixtures/ubus/hotplug-iface-events.env), and
# stand-ins for ubus, jsonfilter, logger and dynhost that record what they were given.
# Proves: which events act (ACTION, INTERFACE against the enabled records and their default
# interfaces, IFUPDATE_*); that a running daemon gets SIGUSR1 through procd and nothing else
# runs; that otherwise a one-shot `dynhost --syslog update -i IFACE` starts in the background
# (it logs to the system log itself), and that the script returns long before that update ends
# (the stand-in sleeps); and that no password reaches any command line.

. "$(dirname "$0")/lib.sh"
setup
cp "$FILES/dynhost.hotplug" "$ROOT/etc/hotplug.d/iface/95-dynhost"

SECRET='S3cr3t-hotplug'
USR1=$(kill -l USR1)

# The events of the fixture, one file of `export NAME='VALUE'` lines each: $T/event.1, ...
awk -v dir="$T" '
	/^#/ { next }
	/^[ \t]*$/ { if (open) { close(file); open = 0 } next }
	{
		if (!open) { n++; file = dir "/event." n; open = 1 }
		eq = index($0, "=")
		print "export " substr($0, 1, eq - 1) "='\''" substr($0, eq + 1) "'\''" > file
	}
	END { print n > (dir "/events") }
' "$EVENTS"
check_eq "the fixture holds the 7 events this test expects" 7 "$(cat "$T/events")"

# hotplug NAME EVENT-FILE: runs hotplug-call iface in a clean environment holding only the
# event (and PATH and the stand-ins' variables), as netifd does. Its stdout and stderr are
# read through a pipe until it closes, so a background job still holding them would make
# this wait too. Sets $rc, $elapsed (centiseconds) and $T/out.NAME (what it printed).
hotplug() {
	started=$(now_cs)
	printed=$(env -i PATH="$PATH" DYNHOST_STANDINS="$DYNHOST_STANDINS" \
		DYNHOST_TEST_ROOT="$DYNHOST_TEST_ROOT" DYNHOST_TEST_LOG="$DYNHOST_TEST_LOG" \
		DYNHOST_TEST_STATE="$DYNHOST_TEST_STATE" \
		sh -c '. "$1" && exec sh "$2" iface' hotplug "$2" "$DYNHOST_STANDINS/sbin/hotplug-call" \
		2>&1)
	rc=$?
	elapsed=$(($(now_cs) - started))
	printf '%s' "$printed" >"$T/out.$1"
}

# event N [NAME=VALUE...]: the fixture's event N, with changes.
event() {
	cp "$T/event.$1" "$T/event.run"
	shift
	for assignment in "$@"; do
		echo "export $assignment" >>"$T/event.run"
	done
	echo "$T/event.run"
}

# acted: what the last run did: `signal` (SIGUSR1 through procd), `update IFACE` (a one-shot
# update started), `nothing`, or several of these.
acted() {
	signals=$(log_of ubus | grep -cF 'call] [service] [signal]')
	updates=$(log_of dynhost | sed -n 's/^dynhost \[--syslog\] \[update\] \[-i\] \[\(.*\)\]$/update \1/p')
	result=
	[ "$signals" = 0 ] || result="signal"
	[ -z "$updates" ] || result="$result${result:+ }$updates"
	echo "${result:-nothing}"
}

# expect NAME EVENT-FILE WANTED: runs the event with the daemon running and checks what it did.
expect() {
	reset_logs
	hotplug "$1" "$2"
	check_eq "$1: $3" "$3" "$(acted)"
	check_eq "$1: returns 0 and prints nothing" "0" "$rc$(cat "$T/out.$1")"
}

# --- filtering, with the daemon running -------------------------------------------------------
# Enabled: an ipv4 record on the default interface (wan) and an ipv6 one on the default (wan6).
# Disabled: a record on wan_6.
write_config <<EOF
config dynhost 'global'

config record 'home4'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET'

config record 'home6'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET'
	option family 'ipv6'
	option interface ''

config record 'old'
	option enabled 'no'
	option hostname 'old.example.com'
	option username 'example.com-router'
	option password '$SECRET'
	option family 'ipv6'
	option interface 'wan_6'
EOF
procd_state running
expect "event 1 (ifup wan)" "$T/event.1" signal
expect "event 2 (ifupdate wan6, new addresses and prefixes)" "$T/event.2" signal
expect "event 3 (ifupdate wan, data only)" "$T/event.3" nothing
expect "event 4 (ifupdate wan, routes only)" "$T/event.4" nothing
expect "event 5 (ifdown wan)" "$T/event.5" nothing
expect "event 6 (ifup-failed wan)" "$T/event.6" nothing
expect "event 7 (ifup wan_6, followed only by a disabled record)" "$T/event.7" nothing
expect "ifupdate wan with only new prefixes" \
	"$(event 3 IFUPDATE_DATA=0 IFUPDATE_PREFIXES=1)" signal
expect "ifupdate wan with only new addresses" \
	"$(event 4 IFUPDATE_ROUTES=0 IFUPDATE_ADDRESSES=1)" signal
expect "ifupdate wan with IFUPDATE_ADDRESSES=0" "$(event 4 IFUPDATE_ADDRESSES=0)" nothing
expect "ifup lan (no record follows it)" "$(event 1 INTERFACE=lan DEVICE=br-lan)" nothing
expect "ifup without INTERFACE" "$(event 1 INTERFACE=)" nothing

reset_logs
hotplug signal "$T/event.1"
check_eq "running: asks procd whether the instance runs, then signals it (USR1 = $USR1 here)" \
"ubus [-t] [2] [call] [service] [list] [{\"name\":\"dynhost\"}]
ubus [-t] [2] [call] [service] [signal] [{\"name\":\"dynhost\",\"signal\":$USR1}]" \
	"$(log_of ubus)"
check_eq "running: reads the answer like procd_running" \
	"jsonfilter [-l] [1] [-e] [@['dynhost'].instances[*].running]" "$(log_of jsonfilter)"
check_eq "running: starts no dynhost of its own" "" "$(log_of dynhost)"

# PPPoE with "option ipv6 auto": IPv6 lives on wan_6; an ipv4 record switched off with 'off'.
write_config <<EOF
config record 'home4'
	option enabled 'off'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET'

config record 'home6'
	option enabled '1'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET'
	option family 'ipv6'
	option interface 'wan_6'
EOF
expect "wan_6 config, event 1 (ifup wan: its ipv4 record is off)" "$T/event.1" nothing
expect "wan_6 config, event 2 (ifupdate wan6: no record follows wan6)" "$T/event.2" nothing
expect "wan_6 config, event 7 (ifup wan_6)" "$T/event.7" signal

# The example config: both records disabled, nothing acts.
cp "$FILES/dynhost.config" "$ROOT/etc/config/dynhost"
expect "example config, event 1" "$T/event.1" nothing
expect "example config, event 2" "$T/event.2" nothing
rm -f "$ROOT/etc/config/dynhost"
expect "no config file, event 1" "$T/event.1" nothing

# --- the daemon is not running: a one-shot update in the background -----------------------
write_config <<EOF
config record 'home4'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET'
EOF
# Long enough that the script returns first even on a loaded machine: the check is on the
# order of events, not on a wall-clock bound (the time is printed).
HANG=5
echo "$HANG" >"$STATE/dynhost.sleep"
for state in none stopped; do
	procd_state "$state"
	reset_logs
	hotplug "not-running-$state" "$T/event.1"
	if [ -e "$STATE/dynhost.finished" ]; then still_running=no; else still_running=yes; fi
	echo "timing: procd state '$state': the hotplug script returned after" \
		"$((elapsed / 100)).$(printf '%02d' $((elapsed % 100))) s; the update stand-in" \
		"(sleeping $HANG s) still running: $still_running"
	check_eq "not running ($state): returns while the update still hangs" yes "$still_running"
	check_eq "not running ($state): returns 0 and prints nothing" "0" \
		"$rc$(cat "$T/out.not-running-$state")"
	waited=0
	while [ ! -e "$STATE/dynhost.finished" ] && [ "$waited" -lt $((HANG * 10 + 100)) ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	check "not running ($state): the update did run to its end" [ -e "$STATE/dynhost.finished" ]
	check_eq "not running ($state): one \`dynhost --syslog update -i wan\`, no signal" \
		"update wan" "$(acted)"
	check_eq "not running ($state): no logger in between (it would log all at one priority)" \
		"" "$(log_of logger)"
done
echo 0 >"$STATE/dynhost.sleep"

check_no_secret "no run recorded or printed the password" "$SECRET"

finish
