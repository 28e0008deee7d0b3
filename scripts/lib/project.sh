# shellcheck shell=bash
# Sourced by the packaging scripts: facts about the project that several of them read. The
# sourcing script defines ROOT (the repository) and `die`.
#
#   cargo_version            Cargo.toml's [package] version
#   make_var MAKEFILE NAME   the value of a top-level `NAME:=value` line (the last one)
#   source_date_epoch        SOURCE_DATE_EPOCH, else the commit time of HEAD, so that the same
#                            commit packs the same bytes

cargo_version() {
    awk '
        /^\[/ { in_package = ($0 == "[package]") }
        in_package && /^version[ \t]*=/ { gsub(/^[^"]*"|".*$/, ""); print; exit }' "$ROOT/Cargo.toml"
}

make_var() {
    awk -v name="$2" '
        index($0, name ":=") == 1 { sub(/^[^=]*:=[ \t]*/, ""); value = $0 }
        END { print value }' "$1"
}

source_date_epoch() {
    local epoch=${SOURCE_DATE_EPOCH:-}
    if [ -z "$epoch" ]; then
        epoch=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null) || epoch=
        [ -n "$epoch" ] || die "no SOURCE_DATE_EPOCH and no git commit to take the time from"
    fi
    [[ $epoch =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH '$epoch' is not a number of seconds"
    echo "$epoch"
}

# Prints VALUE, the value of NAME in MAKEFILE, unless it holds a make reference that these
# scripts cannot resolve.
literal() { # MAKEFILE NAME VALUE
    # shellcheck disable=SC2016 # the pattern is a literal '$('
    case "$3" in *'$('*) die "$1: $2 uses a make reference ('$3'): give it literally" ;; esac
    printf '%s' "$3"
}

# Dies unless a package's PKG_VERSION is Cargo.toml's version (digits and dots, as apk wants)
# and its PKG_RELEASE a number.
check_version() { # MAKEFILE PKG_VERSION PKG_RELEASE
    [[ $2 =~ ^[0-9]+(\.[0-9]+)*$ ]] || die "PKG_VERSION '$2' in $1 is not digits and dots"
    local cargo
    cargo=$(cargo_version)
    [ "$2" = "$cargo" ] || die "PKG_VERSION $2 in $1 is not Cargo.toml's version $cargo"
    [[ $3 =~ ^[0-9]+$ ]] || die "PKG_RELEASE '$3' in $1 is not a number"
}
