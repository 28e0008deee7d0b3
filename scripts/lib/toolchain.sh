# shellcheck shell=bash
# Sourced by the scripts that build with the cross-build recipe (shared docs, cross-build.md):
# Debian's rustc-web with the std sources of rust-web-src (-Zbuild-std), and zig with
# cargo-zigbuild from PyPI. The sourcing script defines `say` and `die`.
#
#   missing_rust_packages   prints the Debian packages of the recipe's rustc that are missing
#   apt_install PKG...      apt-get install (as root; one apt-get update per run)
#   need_zig                pip install cargo-zigbuild when missing and puts pip's scripts folder
#                           on PATH; pip install ziglang $ZIG_VERSION into a cache folder of its
#                           own (once) and puts it first on PYTHONPATH, where cargo-zigbuild
#                           looks first (`python3 -m ziglang`), whatever zig is installed
#   router_build TRIPLE TARGET_DIR [CARGO ARGS...]
#                           a release build with the shipped packages' settings (the header of
#                           scripts/build-packages says what each is for) and the hot text
#                           layout (scripts/lib/hot-text.ld), from the current directory,
#                           whatever Cargo.toml's release profile says; not stripped
#   router_strip IN OUT     the shipped copy of a binary: no symbols, no .pdr (MIPS), no .comment

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

# The zig whose musl the static packages link. Newer zig replaces parts of musl with its own
# code (qsort, a multi-threaded malloc), ~16 KB more on mipsel (BENCHMARKS.md, third round).
ZIG_VERSION=0.15.2

need_zig() {
    # pip puts cargo-zigbuild in the interpreter's scripts folder, which may not be on PATH.
    local scripts
    scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
    export PATH="$PATH:$scripts"
    if ! command -v cargo-zigbuild >/dev/null; then
        say "pip install cargo-zigbuild"
        python3 -m pip install -q cargo-zigbuild >&2 || die "pip install cargo-zigbuild"
        if command -v pyenv >/dev/null; then pyenv rehash 2>/dev/null || true; fi
        command -v cargo-zigbuild >/dev/null || die "cargo-zigbuild is not on PATH after pip install"
    fi
    # A folder of its own, so the zig any other project installed with pip stays as it is.
    local zig_dir=${XDG_CACHE_HOME:-$HOME/.cache}/dynhost/ziglang-$ZIG_VERSION
    if [ ! -e "$zig_dir/.complete" ]; then
        say "pip install ziglang==$ZIG_VERSION into $zig_dir"
        rm -rf "$zig_dir"
        python3 -m pip install -q --target "$zig_dir" "ziglang==$ZIG_VERSION" >&2 ||
            die "pip install ziglang==$ZIG_VERSION"
        touch "$zig_dir/.complete"
    fi
    export PYTHONPATH="$zig_dir${PYTHONPATH:+:$PYTHONPATH}"
    [ "$(python3 -m ziglang version)" = "$ZIG_VERSION" ] ||
        die "python3 -m ziglang is not zig $ZIG_VERSION (PYTHONPATH=$PYTHONPATH)"
}

router_build() {
    local triple=$1 target_dir=$2
    shift 2
    local rustflags="-C link-self-contained=no -Zunstable-options -Cpanic=immediate-abort"
    rustflags+=" -Cforce-unwind-tables=no -Zlocation-detail=none -Zfmt-debug=shallow"
    case "$triple" in mips*) rustflags+=" -C relocation-model=static" ;; esac
    # The functions an update runs, side by side at the start of .text (scripts/hot-text says
    # why). Linked from a path that names its content: cargo relinks when its flags change,
    # not when a file they name does.
    local hot_text=scripts/lib/hot-text.ld sum
    [ -f "$hot_text" ] || die "no $hot_text in $PWD"
    sum=$(sha256sum "$hot_text" | cut -c1-16)
    mkdir -p "$target_dir"
    cp "$hot_text" "$target_dir/hot-text-$sum.ld"
    rustflags+=" -C link-arg=-Wl,-T,$(cd "$target_dir" && pwd)/hot-text-$sum.ld"
    # cargo does not see which zig compiled the C code and linked musl in: a build made with
    # another zig is started afresh, or an unchanged binary would keep the other musl.
    local zig_stamp=$target_dir/$triple/zig-version
    if [ "$(cat "$zig_stamp" 2>/dev/null)" != "$ZIG_VERSION" ]; then
        rm -rf "${target_dir:?}/$triple"
        mkdir -p "$target_dir/$triple"
        echo "$ZIG_VERSION" >"$zig_stamp"
    fi
    (
        export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
        export CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=fat
        export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort
        export CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=false
        export CARGO_PROFILE_RELEASE_INCREMENTAL=false
        unset CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
        # ring's C code without unwind tables either (nothing unwinds): a few KB less.
        export "CFLAGS_${triple//-/_}=-fno-asynchronous-unwind-tables -fno-unwind-tables"
        RUSTFLAGS=$rustflags cargo zigbuild --release --locked --target "$triple" \
            -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size \
            --target-dir "$target_dir" "$@" >&2
    )
}

router_strip() {
    llvm-strip --strip-all --remove-section=.pdr --remove-section=.comment -o "$2" "$1"
}
