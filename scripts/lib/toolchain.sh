# shellcheck shell=bash
# Sourced by the scripts that build with the cross-build recipe (shared docs, cross-build.md):
# Debian's rustc-web with the std sources of rust-web-src (-Zbuild-std), and zig with
# cargo-zigbuild from PyPI. The sourcing script defines `say` and `die`.
#
#   missing_rust_packages   prints the Debian packages of the recipe's rustc that are missing
#   apt_install PKG...      apt-get install (as root; one apt-get update per run)
#   need_zig                pip install ziglang and cargo-zigbuild when missing, and puts pip's
#                           scripts folder on PATH

APT_UPDATED=
apt_install() {
    [ "$(id -u)" = 0 ] || die "missing $*: install them (apt-get install $*) or run as root"
    if [ -z "$APT_UPDATED" ]; then
        say "apt-get update"
        apt-get update -qq >&2
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

missing_rust_packages() {
    dpkg -s rustc-web >/dev/null 2>&1 && [ -x /usr/bin/rustc ] || echo rustc-web
    dpkg -s rust-web-src >/dev/null 2>&1 || echo rust-web-src
}

need_zig() {
    # pip puts cargo-zigbuild in the interpreter's scripts folder, which may not be on PATH.
    local scripts
    scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
    export PATH="$PATH:$scripts"
    local wanted=()
    python3 -c 'import ziglang' 2>/dev/null || command -v zig >/dev/null || wanted+=(ziglang)
    command -v cargo-zigbuild >/dev/null || wanted+=(cargo-zigbuild)
    [ ${#wanted[@]} -gt 0 ] || return 0
    say "pip install ${wanted[*]}"
    python3 -m pip install -q "${wanted[@]}" >&2 || die "pip install ${wanted[*]}"
    if command -v pyenv >/dev/null; then pyenv rehash 2>/dev/null || true; fi
    command -v cargo-zigbuild >/dev/null || die "cargo-zigbuild is not on PATH after pip install"
}
