#!/bin/sh
# The box's DHCP clients: netifd protocols that take their "lease" from a file instead of a
# server. `lease` (DHCP, wan) reads /tmp/box/lease, one line: ADDRESS/PREFIXLEN [GATEWAY].
# `lease6` (DHCPv6 with prefix delegation, wan6) reads /tmp/box/lease6, one line per item:
#   address ADDRESS/PREFIXLEN PREFERRED VALID    an address of the interface (IA_NA)
#   prefix PREFIX/PREFIXLEN PREFERRED VALID      a delegated prefix (IA_PD), shared out by
#                                                netifd to the interfaces with ip6assign
# `ubus call network.interface.<name> renew` makes it read the file again and re-announce the
# interface, so a new lease arrives without the link going down, as a renewed lease does
# (netifd's ACTION=ifupdate with IFUPDATE_ADDRESSES=1 or IFUPDATE_PREFIXES=1). box-lease
# writes the file and renews.
# shellcheck disable=SC1091,SC2034,SC3043 # sourced libraries, variables read by them, ash has local

. /lib/functions.sh
. ../netifd-proto.sh
init_proto "$@"

proto_lease_init_config() {
	renew_handler=1
	available=1
}

proto_lease6_init_config() {
	proto_lease_init_config
}

# lease_announce FILE CONFIG IFACE: the lease in FILE, announced to netifd for IFACE.
lease_announce() {
	local file="$1" config="$2" iface="$3" first second third fourth
	[ -s "$file" ] || {
		proto_notify_error "$config" NO_LEASE
		proto_block_restart "$config"
		return 1
	}
	proto_init_update "$iface" 1
	while read -r first second third fourth; do
		case "$first" in
			address) proto_add_ipv6_address "${second%/*}" "${second#*/}" "$third" "$fourth" ;;
			# One argument: netifd parses prefix,preferred,valid, while the helper's own
			# order for separate arguments is valid, preferred.
			prefix) proto_add_ipv6_prefix "$second,$third,$fourth" ;;
			*)
				proto_add_ipv4_address "${first%/*}" "${first#*/}"
				[ -z "$second" ] || proto_add_ipv4_route 0.0.0.0 0 "$second"
				;;
		esac
	done <"$file"
	proto_send_update "$config"
}

proto_lease_setup() {
	lease_announce /tmp/box/lease "$1" "$2"
}

proto_lease_renew() {
	lease_announce /tmp/box/lease "$1" "$2"
}

proto_lease6_setup() {
	lease_announce /tmp/box/lease6 "$1" "$2"
}

proto_lease6_renew() {
	lease_announce /tmp/box/lease6 "$1" "$2"
}

proto_lease_teardown() {
	return 0
}

proto_lease6_teardown() {
	return 0
}

add_protocol lease
add_protocol lease6
