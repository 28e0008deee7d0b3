#!/bin/sh
# /etc/init.d/dynhost (openwrt/files/dynhost.init) under busybox sh, through a stand-in
# rc.common with stand-ins for procd.sh, functions.sh, validate_data and logger that record
# what they were given. Proves: the procd instance (command, respawn, log, reload by SIGHUP),
# the triggers and the validation description; that a broken config is reported by `start`,
# which then fails and starts nothing; reload and update as signals; and that no password
# reaches any command line, procd or the output, even from a section that fails validation.

. "$(dirname "$0")/lib.sh"
setup
cp "$FILES/dynhost.init" "$ROOT/etc/init.d/dynhost"

SECRET4='S3cr3t-init-v4'
SECRET6='S3cr3t-init-v6'

good_config() {
	write_config <<EOF
config dynhost 'global'
	option check_interval '600'
	option timeout '30'

config record 'home4'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET4'

config record 'home6'
	option enabled '0'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET6'
	option family 'ipv6'
	option interface 'wan_6'
	option source 'netlink'
	option device 'pppoe-wan'
	option ipv6_suffix '::1:2:3:4'
EOF
}

# initd NAME ACTION...: /etc/init.d/dynhost ACTION, as the kernel runs it (sh rc.common
# SCRIPT ACTION); sets $rc, $out and $err (also kept in $T/out.NAME and $T/err.NAME).
initd() {
	name=$1
	shift
	sh "$DYNHOST_STANDINS/rc.common" "$ROOT/etc/init.d/dynhost" "$@" \
		>"$T/out.$name" 2>"$T/err.$name"
	rc=$?
	out=$(cat "$T/out.$name")
	err=$(cat "$T/err.$name")
}

count_lines() {
	log_of "$1" | grep -cF -- "$2"
}

# --- start with a good config ---------------------------------------------------------------
good_config
procd_state none
reset_logs
initd start start
check_eq "start: exit status 0" 0 "$rc"
check_eq "start: says nothing" "" "$out$err"
instance=$(log_of procd | sed -n '/^procd_open_instance/,/^procd_close_instance/p')
check_eq "start: the procd instance: dynhost run, respawn, log to syslog, reload by SIGHUP" \
"procd_open_instance [dynhost]
procd_set_param [command] [/usr/bin/dynhost] [--syslog] [run]
procd_set_param [respawn]
procd_set_param [stdout] [1]
procd_set_param [stderr] [1]
procd_set_param [file] [/etc/config/dynhost]
procd_set_param [reload_signal] [HUP]
procd_close_instance" "$instance"
check_eq "start: exactly one instance" 1 "$(count_lines procd procd_open_instance)"
check_eq "start: registered as service dynhost, method set" \
"procd_open_service [dynhost] [$ROOT/etc/init.d/dynhost]
procd_close_service [set]" "$(log_of procd | grep -E '^procd_(open|close)_service')"
check_eq "start: reload trigger on config dynhost" 1 \
	"$(count_lines procd 'procd_add_reload_trigger [dynhost]')"
check_eq "start: validation registered with procd" 1 \
	"$(count_lines procd 'procd_add_validation [validate_dynhost]')"
described=$(log_of procd | sed -n '/json_add_string \[type\] \[record\]/,/^json_close_object/p' |
	sed -n 's/^json_add_string \[\([a-z_0-9]*\)\] .*/\1/p' | grep -v '^type$' | tr '\n' ' ')
check_eq "start: the validation describes every record option but the secrets" \
	"enabled hostname username family interface source device check_url script ipv6_suffix prefix_interface server cacert method zone endpoint application_key ttl " \
	"$described"
described=$(log_of procd | sed -n '/json_add_string \[type\] \[dynhost\]/,/^json_close_object/p' |
	sed -n 's/^json_add_string \[\([a-z_0-9]*\)\] .*/\1/p' | grep -v '^type$' | tr '\n' ' ')
check_eq "start: the validation describes every global option" \
	"check_interval timeout cacert " "$described"
check_eq "start: each section validated (global, home4, home6), plus the two descriptions" \
"dynhost dynhost global
dynhost record home4
dynhost record home6
dynhost dynhost 
dynhost record " "$(log_of validate_data | sed 's/^validate_data \[\([^]]*\)\] \[\([^]]*\)\] \[\([^]]*\)\].*/\1 \2 \3/')"
check_eq "start: password is never an option given to validate_data" "" \
	"$(log_of validate_data | grep -E 'password|application_secret|consumer_key')"
check_eq "start: nothing logged" "" "$(log_of logger)"

# --- the validation failure path ------------------------------------------------------------
# fails NAME: start with the config just written must fail, start nothing, say why on stderr
# and in the log, and leave no password anywhere.
fails() {
	reset_logs
	initd "$1" start
	check "$1: start fails" [ "$rc" != 0 ]
	check_eq "$1: no instance started" 0 "$(count_lines procd procd_open_instance)"
	check_contains "$1: says the config is broken, not started" "$err" \
		"the config is broken: dynhost not started"
	check_contains "$1: logs it (logger -t dynhost -p daemon.err)" "$(log_of logger)" \
		"logger [-t] [dynhost] [-p] [daemon.err] [the config is broken: dynhost not started]"
}

write_config <<EOF
config dynhost 'global'

config record 'home4'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET4'
	option family 'ipv5'
EOF
fails bad-family
check_contains "bad-family: validate_data names the wrong value" "$err" \
	'dynhost.home4.family=ipv5 validates as or("ipv4","ipv6") with false'
check_contains "bad-family: names the section" "$err" \
	"dynhost: /etc/config/dynhost: section 'home4': a value is wrong (see the lines above)"
check_lacks "bad-family: the failing section's password is not printed" "$err$out" "$SECRET4"
# What procd then keeps: the service, with no instance.
procd_state empty
reset_logs
initd status-refused status
check_eq "status after a refused start: fails as not running" 5 "$rc"
check_contains "status after a refused start: says the config was refused" "$out" \
	"not running: /etc/config/dynhost was refused"
check_contains "status after a refused start: names the section" "$out" \
	"dynhost: /etc/config/dynhost: section 'home4': a value is wrong"
check_contains "status after a refused start: names the wrong value" "$out" \
	'dynhost.home4.family=ipv5 validates as or("ipv4","ipv6") with false'
check_lacks "status after a refused start: not the values that are right" "$out" "with true"
check_lacks "status after a refused start: not 'active'" "$out" "active with no instances"
check_eq "status after a refused start: logs nothing" "" "$(log_of logger)"
check_lacks "status after a refused start: no password" "$err$out" "$SECRET4"

write_config <<EOF
config dynhost 'global'
	option check_interval '5'

config record 'home4'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET4'
EOF
fails bad-interval
check_contains "bad-interval: validate_data names the wrong value" "$err" \
	"dynhost.global.check_interval=5 validates as range(30,604800) with false"

write_config <<EOF
config record
	option hostname 'not a host name'
	option username 'example.com-router'
	option password '$SECRET4'
EOF
fails bad-hostname
check_contains "bad-hostname: names the anonymous section as uci does" "$err" \
	"section 'cfg1': a value is wrong"

write_config <<EOF
config record 'home4'
	option enabled '0'
	option username 'example.com-router'
	option password '$SECRET4'
EOF
fails no-hostname
check_contains "no-hostname: a disabled record needs a hostname too (dynhost refuses it)" "$err" \
	"section 'home4': option hostname is missing"

write_config <<EOF
config record 'home4'
	option hostname 'home.example.com'
	option password '$SECRET4'
EOF
fails no-username
check_contains "no-username: says so" "$err" "section 'home4': option username is missing"

write_config <<EOF
config record 'home4'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET4'
	option source 'script'
EOF
fails no-script
check_contains "no-script: says so" "$err" "section 'home4': source 'script' needs option script"

write_config <<EOF
config record 'home4'
	option hostname 'home.example.com'
	option username 'example.com-router'
	option password '$SECRET4'
	option cacert '/etc/ssl/nowhere.pem'
EOF
fails missing-cacert
check_contains "missing-cacert: validate_data names the file" "$err" \
	"dynhost.home4.cacert=/etc/ssl/nowhere.pem validates as file with false"

# --- api mode (issue 16) ----------------------------------------------------------------------
SECRET_AS='AS-s3cr3t-init-api'
SECRET_CK='CK-s3cr3t-init-api'
api_config() {
	write_config <<EOF
config record 'wild'
	option method 'api'
	option hostname '*.example.com'
	option zone 'example.com'
	option endpoint 'ovh-eu'
	option application_key 'AK-init'
	option application_secret '$SECRET_AS'
	option consumer_key '$SECRET_CK'
	option ttl '$1'
EOF
}
api_config 300
procd_state none
reset_logs
initd api-good start
check_eq "api: a wildcard api record with no login starts" "0 1" \
	"$rc $(count_lines procd procd_open_instance)"
check_lacks "api: neither secret is given to validate_data" "$(log_of validate_data)" "s3cr3t-init-api"
check_lacks "api: neither secret is printed" "$err$out" "s3cr3t-init-api"
api_config 59
fails api-ttl
check_contains "api-ttl: validate_data names the wrong value" "$err" \
	"dynhost.wild.ttl=59 validates as range(60,86400) with false"
check_lacks "api-ttl: neither secret is printed" "$err$out" "s3cr3t-init-api"
api_config 300
sed -i "/option endpoint/d" "$ROOT/etc/config/dynhost"
fails api-no-endpoint
check_contains "api-no-endpoint: says so" "$err" "section 'wild': method 'api' needs option endpoint"
write_config <<EOF
config record 'wild'
	option hostname '*.example.com'
	option username 'example.com-router'
	option password '$SECRET4'
EOF
procd_state none
reset_logs
initd dynhost-wildcard start
check_eq "dynhost-wildcard: passes the shell's check (dynhost itself refuses it)" 0 "$rc"

# --- status ---------------------------------------------------------------------------------
good_config
procd_state empty
reset_logs
initd status-empty status
check_eq "status (good config, no instance): fails as not running" 5 "$rc"
check_contains "status (good config, no instance): says how to start it" "$out" \
	"not running: no instance (start it with '/etc/init.d/dynhost start')"
procd_state running
initd status-running status
check_eq "status (running): procd's own answer" "0 running" "$rc $out"
procd_state stopped
initd status-stopped status
check_eq "status (stopped): procd's own answer" "5 not running" "$rc $out"
procd_state none
initd status-inactive status
check_eq "status (unknown to procd): procd's own answer" "3 inactive" "$rc $out"

# --- reload ---------------------------------------------------------------------------------
good_config
procd_state running
reset_logs
initd reload-running reload
check_eq "reload (running): exit status 0" 0 "$rc"
check_eq "reload (running): SIGHUP to the instance through procd, nothing else" \
	"procd_send_signal [dynhost] [dynhost] [HUP]" \
	"$(log_of procd | grep -E '^procd_(send_signal|kill|open_instance|open_service)')"

write_config <<EOF
config dynhost 'global'
	option timeout '0'
EOF
reset_logs
initd reload-broken reload
check "reload (running, broken config): fails" [ "$rc" != 0 ]
check_eq "reload (running, broken config): no signal, no restart, no stop" "" \
	"$(log_of procd | grep -E '^procd_(send_signal|kill|open_instance|open_service)')"
check_contains "reload (running, broken config): says the daemon keeps its config" "$err" \
	"the config is broken: the daemon keeps the one it has"

good_config
procd_state none
reset_logs
initd reload-stopped reload
check_eq "reload (not running): exit status 0" 0 "$rc"
check_eq "reload (not running): starts the instance" 1 "$(count_lines procd procd_open_instance)"
check_eq "reload (not running): no signal" 0 "$(count_lines procd procd_send_signal)"

# --- update -----------------------------------------------------------------------------------
procd_state running
reset_logs
initd update-running update
check_eq "update (running): exit status 0" 0 "$rc"
check_eq "update (running): SIGUSR1 to the instance, nothing else" \
	"procd_send_signal [dynhost] [dynhost] [USR1]" \
	"$(log_of procd | grep -E '^procd_(send_signal|kill|open_instance|open_service)')"
check_eq "update (running): no dynhost run of its own" "" "$(log_of dynhost)"

procd_state stopped
reset_logs
initd update-stopped update
check "update (not running): fails" [ "$rc" != 0 ]
check_eq "update (not running): no signal" 0 "$(count_lines procd procd_send_signal)"
check_contains "update (not running): says how to start it" "$err" \
	"dynhost is not running: start it with '/etc/init.d/dynhost start'"

# --- the rest of rc.common ------------------------------------------------------------------
reset_logs
initd help
check_contains "help lists update" "$out" \
	"update          Re-check every record now (SIGUSR1 to the running daemon)"

initd enable enable
check_eq "enable: exit status 0" 0 "$rc"
check_eq "enable: S95dynhost and K10dynhost" "../init.d/dynhost ../init.d/dynhost" \
	"$(readlink "$ROOT/etc/rc.d/S95dynhost") $(readlink "$ROOT/etc/rc.d/K10dynhost")"

procd_state running
reset_logs
initd stop stop
check_eq "stop: procd removes the service" "procd_kill [dynhost] []" \
	"$(log_of procd | grep '^procd_kill')"

# --- no password anywhere -------------------------------------------------------------------
check_no_secret "no run recorded or printed the ipv4 password" "$SECRET4"
check_no_secret "no run recorded or printed the ipv6 password" "$SECRET6"

finish
