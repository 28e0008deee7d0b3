# Stand-in for OpenWrt's /lib/functions/procd.sh. Every procd_* call and every json_* call is
# recorded (record.sh) in procd.log instead of being sent to procd over ubus.
#
# What procd would answer: $DYNHOST_TEST_STATE/procd holds `running` (the instance runs),
# `stopped` (known to procd, not running), `empty` (registered with no instance, as procd
# keeps a service whose start_service added none) or nothing (procd does not know it).
#
# uci_validate_section and uci_load_validate are the real ones, but call the validate_data
# found on PATH (the stand-in in ../../bin) instead of /sbin/validate_data.

. "$DYNHOST_STANDINS/record.sh"

procd_lock() { return 0; }

procd_close_service() {
	service_triggers
	type service_data >/dev/null 2>&1 && service_data
	record_in procd procd_close_service "$@"
}

# The calls that only need recording.
for recorded_call in \
	procd_open_service procd_open_instance procd_close_instance procd_set_param procd_append_param \
	procd_add_instance procd_add_reload_trigger procd_add_interface_trigger \
	procd_add_reload_interface_trigger procd_add_config_trigger procd_add_raw_trigger \
	procd_open_trigger procd_close_trigger procd_kill procd_send_signal procd_set_config_changed \
	json_init json_add_object json_close_object json_add_array json_close_array json_add_string \
	json_add_int json_add_boolean; do
	eval "$recorded_call() { record_in procd $recorded_call \"\$@\"; }"
done
unset recorded_call

# As the real one: the validation function is called with no section; its validate_data
# output is a list of json_* calls describing the options, recorded here.
procd_add_validation() {
	record_in procd procd_add_validation "$@"
	"$@"
}

procd_running() {
	record_in procd procd_running "$@"
	[ "$(cat "$DYNHOST_TEST_STATE/procd" 2>/dev/null)" = running ]
}

_procd_status() {
	case "$(cat "$DYNHOST_TEST_STATE/procd" 2>/dev/null)" in
		running) echo "running"; return 0 ;;
		stopped) echo "not running"; return 5 ;;
		empty) [ -n "$2" ] || { echo "active with no instances"; return 0; }
			echo "unknown instance \"$2\""; return 4 ;;
		*) echo "inactive"; return 3 ;;
	esac
}

uci_validate_section()
{
	local _package="$1"
	local _type="$2"
	local _name="$3"
	local _result
	local _error
	shift; shift; shift
	_result=$(validate_data "$_package" "$_type" "$_name" "$@" 2> /dev/null)
	_error=$?
	eval "$_result"
	[ "$_error" = "0" ] || $(validate_data "$_package" "$_type" "$_name" "$@" 1> /dev/null)
	return $_error
}

uci_load_validate() {
	local _package="$1"
	local _type="$2"
	local _name="$3"
	local _function="$4"
	local _option
	local _result
	shift; shift; shift; shift
	for _option in "$@"; do
		eval "local ${_option%%:*}"
	done
	uci_validate_section "$_package" "$_type" "$_name" "$@"
	_result=$?
	[ -n "$_function" ] || return $_result
	eval "$_function \"\$_name\" \"\$_result\""
}
