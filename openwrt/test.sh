#!/bin/sh
# Runtime check of the packages feed's CI, run on the target after installing the package:
#   sh test.sh PACKAGE VERSION
# VERSION is PKG_VERSION, possibly followed by the release (0.1.0-1, or 0.1.0-r1 for apk);
# PKG_VERSION itself never holds a '-'.

case "$1" in
	dynhost)
		want="dynhost ${2%%-*}"
		got=$(dynhost --version) || {
			echo "dynhost --version failed" >&2
			exit 1
		}
		if [ "$got" != "$want" ]; then
			echo "dynhost --version printed '$got', expected '$want'" >&2
			exit 1
		fi
		# The config the package installed parses (both records ship disabled: no network,
		# and nothing is written but the state directory, here a throw-away one).
		if [ -f /etc/config/dynhost ]; then
			state=$(mktemp -d) || exit 1
			dynhost -c /etc/config/dynhost -s "$state" status >/dev/null
			rc=$?
			rm -rf "$state"
			[ "$rc" = 0 ] || {
				echo "dynhost status refused /etc/config/dynhost (exit $rc)" >&2
				exit 1
			}
		fi
		;;
esac
