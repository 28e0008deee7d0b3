# Stand-in for an OpenWrt SDK's rules.mk: only what openwrt/Makefile uses, with the install
# commands of the real one (include/rules.mk there).
INSTALL_BIN:=install -m0755
INSTALL_DIR:=install -d -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
