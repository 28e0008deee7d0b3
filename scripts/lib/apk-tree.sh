# shellcheck shell=bash
# shellcheck disable=SC2016,SC1003 # it writes shell scripts: their $ and \ stay literal
# Sourced by scripts/pack-ipk and scripts/pack-luci-ipk: the apk-ready tree of a package, as
# OpenWrt 25.12's include/package-pack.mk (CONFIG_USE_APK) prepares it for apk-tools 3's
# `apk mkpkg`. The sourcing script defines `die` and these package fields:
#
#   PKG VERSION LICENSE SOURCE URL MAINTAINER   as in the .ipk's control file
#   DEPENDS                                     "a, b" (the control file's form)
#   CONFFILES                                   one path a line (may be empty)
#   POSTINST_PKG, PRERM_PKG                     the package's own postinst / prerm (may be
#                                               empty), appended to the generic scripts as
#                                               package-pack.mk does
#
#   apk_tree TREE FILES ARCH DESCRIPTION
#       moves the install tree FILES to TREE/files and adds lib/apk/packages/<PKG>.list (and
#       with CONFFILES .conffiles and .conffiles_static), the post-install, post-upgrade and pre-deinstall
#       scripts, and TREE/mkpkg.sh, which runs `apk mkpkg` with OpenWrt's fields (ARCH "all"
#       becomes apk's "noarch") and writes TREE/<PKG>-<VERSION>.apk, or the file it is given.

apk_tree() {
    local tree=$1 files=$2 arch=$3 description=$4
    [ "$arch" != all ] || arch=noarch
    rm -rf "$tree"
    mkdir -p "$tree"
    mv "$files" "$tree/files"
    chmod 0755 "$tree/files"
    local meta=$tree/files/lib/apk/packages
    mkdir -p "$meta"
    (cd "$tree/files" && find . \( -type f -o -type l \) ! -path './lib/apk/packages/*' \
        -printf '/%P\n' | sort) >"$tree/$PKG.list"
    mv "$tree/$PKG.list" "$meta/$PKG.list"
    if [ -n "$CONFFILES" ]; then
        printf '%s\n' "$CONFFILES" >"$meta/$PKG.conffiles"
        : >"$meta/$PKG.conffiles_static"
        local cf sum
        while IFS= read -r cf; do
            if [ -z "$cf" ] || [ ! -f "$tree/files/$cf" ]; then continue; fi
            sum=$(sha256sum "$tree/files/$cf" | cut -d' ' -f1)
            echo "$cf $sum" >>"$meta/$PKG.conffiles_static"
        done <<<"$CONFFILES"
    fi
    chmod 0644 "$meta/"*

    { echo '#!/bin/sh'; apk_post_install_body; } >"$tree/post-install"
    { echo '#!/bin/sh'; echo 'export PKG_UPGRADE=1'; apk_post_install_body; } >"$tree/post-upgrade"
    {
        echo '#!/bin/sh'
        echo '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0'
        echo '. ${IPKG_INSTROOT}/lib/functions.sh'
        echo 'export root="${IPKG_INSTROOT}"'
        echo "export pkgname=\"$PKG\""
        echo 'default_prerm'
        apk_package_script "${PRERM_PKG:-}"
    } >"$tree/pre-deinstall"

    local one_line_description apk_name=$PKG-$VERSION.apk
    one_line_description=$(printf '%s\n' "$description" | tr -s ' \t\n' ' ' | sed -e 's/^ //; s/ $//')
    {
        echo '#!/bin/sh'
        echo "# Makes $apk_name (APK v3) from this folder with apk-tools 3, as OpenWrt 25.12's"
        echo '# include/package-pack.mk does. Run it as root or under fakeroot (the files are recorded'
        echo '# with their owner), e.g.:  fakeroot sh mkpkg.sh [APK-PROGRAM] [OUTPUT]'
        echo 'set -e'
        echo 'here=$(cd "$(dirname "$0")" && pwd)'
        echo '"${1:-apk}" mkpkg \'
        echo "  --info $(squote "name:$PKG") \\"
        echo "  --info $(squote "version:$VERSION") \\"
        echo "  --info $(squote "description:$one_line_description") \\"
        echo "  --info $(squote "arch:$arch") \\"
        echo "  --info $(squote "license:$LICENSE") \\"
        echo "  --info $(squote "origin:$SOURCE") \\"
        echo "  --info $(squote "url:$URL") \\"
        echo "  --info $(squote "maintainer:$MAINTAINER") \\"
        echo "  --info $(squote "provides:$PKG-any") \\"
        echo '  --script "post-install:$here/post-install" \'
        echo '  --script "post-upgrade:$here/post-upgrade" \'
        echo '  --script "pre-deinstall:$here/pre-deinstall" \'
        echo "  --info $(squote "depends:${DEPENDS//, / }") \\"
        echo '  --files "$here/files" \'
        echo "  --output \"\${2:-\$here/$apk_name}\""
    } >"$tree/mkpkg.sh"
    chmod 0755 "$tree/mkpkg.sh"
}

apk_post_install_body() {
    echo '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0'
    echo '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0'
    echo '. ${IPKG_INSTROOT}/lib/functions.sh'
    echo 'export root="${IPKG_INSTROOT}"'
    echo "export pkgname=\"$PKG\""
    echo 'add_group_and_user'
    echo 'default_postinst'
    apk_package_script "${POSTINST_PKG:-}"
}

# A package's own script after the generic lines, its first line's leading blanks dropped
# (package-pack.mk: sed -z 's/^\s*#!/#!/').
apk_package_script() {
    [ -z "$1" ] || printf '%s\n' "$1" | sed -e '1s/^[[:space:]]*#!/#!/'
}

squote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
