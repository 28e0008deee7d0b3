# Stand-in for OpenWrt's /lib/functions.sh (with uci_load from /lib/config/uci.sh): the part
# the init and hotplug scripts use, with the same semantics.
#
# config_load PACKAGE reads $DYNHOST_TEST_ROOT/etc/config/PACKAGE. The real one evaluates the
# output of `uci export`, which is `package`, `config TYPE 'NAME'` and `option NAME 'VALUE'`
# lines calling the functions below; test configs are written in that quoted form, so this
# one evaluates the file itself. Anonymous sections get the names cfg1, cfg2, ... (uci:
# cfgXXXXXX). An empty value counts as unset, as in config_get's ${...:-default}.

CONFIG_SECTIONS=
CONFIG_NUM_SECTIONS=0
CONFIG_SECTION=

config_cb() { return 0; }
option_cb() { return 0; }
list_cb() { return 0; }

append() {
	local var="$1"
	local value="$2"
	local sep="${3:- }"

	eval "$var=\${$var:+\${$var}\${value:+\$sep}}\$value"
}

list_contains() {
	local var="$1"
	local str="$2"
	local val

	eval "val=\" \${$var} \""
	[ "${val%% "$str" *}" != "$val" ]
}

config_set() {
	local section="$1"
	local option="$2"
	local value="$3"

	eval "CONFIG_${section}_${option}=\$value"
}

package() {
	return 0
}

config() {
	local cfgtype="$1"
	local name="$2"

	CONFIG_NUM_SECTIONS=$((CONFIG_NUM_SECTIONS + 1))
	name="${name:-cfg$CONFIG_NUM_SECTIONS}"
	list_contains CONFIG_SECTIONS "$name" || append CONFIG_SECTIONS "$name"
	CONFIG_SECTION="$name"
	config_set "$CONFIG_SECTION" TYPE "$cfgtype"
	config_cb "$cfgtype" "$name"
}

option() {
	local varname="$1"; shift
	local value="$*"

	config_set "$CONFIG_SECTION" "$varname" "$value"
	option_cb "$varname" "$*"
}

list() {
	local varname="$1"; shift
	local value="$*"
	local len

	eval "len=\${CONFIG_${CONFIG_SECTION}_${varname}_LENGTH:-0}"
	len=$((len + 1))
	config_set "$CONFIG_SECTION" "${varname}_ITEM$len" "$value"
	config_set "$CONFIG_SECTION" "${varname}_LENGTH" "$len"
	append "CONFIG_${CONFIG_SECTION}_${varname}" "$value" " "
	list_cb "$varname" "$*"
}

config_load() {
	local file="$DYNHOST_TEST_ROOT/etc/config/$1"
	local var

	# Forget the previous package's sections.
	for var in $CONFIG_SECTIONS; do
		unset "CONFIG_${var}_TYPE"
	done
	CONFIG_SECTIONS=
	CONFIG_NUM_SECTIONS=0
	CONFIG_SECTION=
	[ -f "$file" ] || return 1
	# shellcheck disable=SC1090
	. "$file"
}

config_get() {
	case "$2${3:-$1}" in
		*[!A-Za-z0-9_]*) : ;;
		*)
			case "$3" in
				"") eval echo "\"\${CONFIG_${1}_${2}:-\${3}}\"";;
				*)  eval "${1}=\${CONFIG_${2}_${3}:-\${4}}";;
			esac
		;;
	esac
}

config_get_bool() {
	local _tmp
	config_get _tmp "$2" "$3" "$4"
	case "$_tmp" in
		1|on|true|yes|enabled) _tmp=1;;
		0|off|false|no|disabled) _tmp=0;;
		*) _tmp="$4";;
	esac
	eval "$1=\$_tmp"
}

config_foreach() {
	local ___function="$1"
	[ "$#" -ge 1 ] && shift
	local ___type="$1"
	[ "$#" -ge 1 ] && shift
	local section cfgtype

	[ -z "$CONFIG_SECTIONS" ] && return 0
	for section in ${CONFIG_SECTIONS}; do
		config_get cfgtype "$section" TYPE
		[ -n "$___type" ] && [ "x$cfgtype" != "x$___type" ] && continue
		eval "$___function \"\$section\" \"\$@\""
	done
}
