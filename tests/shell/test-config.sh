#!/bin/sh
# /etc/config/dynhost as shipped (openwrt/files/dynhost.config), read the way the init and
# hotplug scripts read it (config_load through the functions.sh stand-in): one global section
# and two records, one ipv4 and one ipv6, both disabled, on the default interfaces; the init
# script's validation accepts it, and starts the daemon (which then watches no record). That
# dynhost itself parses it is checked by tests/openwrt.rs with the real binary.

. "$(dirname "$0")/lib.sh"
setup
cp "$FILES/dynhost.config" "$ROOT/etc/config/dynhost"
cp "$FILES/dynhost.init" "$ROOT/etc/init.d/dynhost"

. "$DYNHOST_STANDINS/lib/functions.sh"
config_load dynhost
check_eq "sections, in order" "global home4 home6" "$CONFIG_SECTIONS"
check_eq "section types" "dynhost record record" \
	"$(for s in $CONFIG_SECTIONS; do config_get t "$s" TYPE; printf '%s ' "$t"; done | sed 's/ $//')"

record_summary() {
	config_get_bool enabled "$1" enabled 1
	config_get family "$1" family ipv4
	config_get interface "$1" interface
	config_get source "$1" source ubus
	config_get hostname "$1" hostname
	config_get password "$1" password
	printf '%s enabled=%s family=%s interface=%s source=%s hostname=%s password-set=%s\n' \
		"$1" "$enabled" "$family" "$interface" "$source" "$hostname" "${password:+yes}"
}
check_eq "one disabled ipv4 record on wan and one disabled ipv6 record on wan6" \
"home4 enabled=0 family=ipv4 interface=wan source=ubus hostname=home.example.com password-set=yes
home6 enabled=0 family=ipv6 interface=wan6 source=ubus hostname=home.example.com password-set=yes" \
	"$(config_foreach record_summary record)"
config_get interval global check_interval
config_get timeout global timeout
config_get cacert global cacert
check_eq "global options (dynhost's defaults)" \
	"600 30 /etc/ssl/certs/ca-certificates.crt" "$interval $timeout $cacert"

sh "$DYNHOST_STANDINS/rc.common" "$ROOT/etc/init.d/dynhost" start >"$T/out.start" 2>"$T/err.start"
rc=$?
check_eq "the init script accepts it: start exits 0 and says nothing" "0" \
	"$rc$(cat "$T/out.start" "$T/err.start")"
check_eq "the init script starts the daemon" 1 "$(log_of procd | grep -c '^procd_open_instance')"

# Every option set in the file is one dynhost knows (a typo would be a warning at each start).
known=" check_interval timeout cacert enabled hostname username password family interface "
known="$known source device check_url script ipv6_suffix prefix_interface server "
unknown=$(sed -n 's/^[ \t]*option[ \t]\{1,\}\([^ \t]*\).*/\1/p' "$FILES/dynhost.config" |
	while read -r name; do
		case "$known" in *" $name "*) ;; *) echo "$name" ;; esac
	done)
check_eq "every option is one dynhost reads" "" "$unknown"

finish
