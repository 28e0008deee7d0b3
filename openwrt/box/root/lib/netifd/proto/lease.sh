#!/bin/sh
# The box's DHCP client: a netifd protocol that takes its "lease" from /tmp/box/lease (one
# line: ADDRESS/PREFIXLEN [GATEWAY]) instead of a DHCP server. `ubus call
# network.interface.wan renew` makes it read the file again and re-announce the interface, so a
# new address arrives without the link going down, as a renewed DHCP lease does (netifd's
# ACTION=ifupdate with IFUPDATE_ADDRESSES=1). box-lease writes the file and renews.
# shellcheck disable=SC1091,SC2034,SC3043 # sourced libraries, variables read by them, ash has local

. /lib/functions.sh
. ../netifd-proto.sh
init_proto "$@"

proto_lease_init_config() {
	renew_handler=1
	available=1
}

proto_lease_announce() {
	local config="$1" iface="$2" lease address gateway
	read -r lease gateway </tmp/box/lease 2>/dev/null
	[ -n "$lease" ] || {
		proto_notify_error "$config" NO_LEASE
		proto_block_restart "$config"
		return 1
	}
	address=${lease%/*}
	proto_init_update "$iface" 1
	proto_add_ipv4_address "$address" "${lease#*/}"
	[ -z "$gateway" ] || proto_add_ipv4_route 0.0.0.0 0 "$gateway"
	proto_send_update "$config"
}

proto_lease_setup() {
	proto_lease_announce "$1" "$2"
}

proto_lease_renew() {
	proto_lease_announce "$1" "$2"
}

proto_lease_teardown() {
	return 0
}

add_protocol lease
