# Stand-in for an OpenWrt SDK's include/package.mk, for tests/openwrt.rs. BuildPackage makes
# two targets instead of building anything:
#   make metadata                 the package's fields, one NAME=VALUE a line
#   make install-root ROOT=DIR    runs the package's install recipe into DIR, with the binary
#                                 taken from $(PKG_INSTALL_DIR)/bin (cargo install --root)
# Unknown or missing fields are left empty: the test checks the values it cares about.

PKG_INSTALL_DIR ?= $(CURDIR)/ipkg-install

define BuildPackage
  $(eval $(Package/$(1)))

metadata:
	@echo 'PKG_NAME=$(PKG_NAME)'
	@echo 'PKG_VERSION=$(PKG_VERSION)'
	@echo 'PKG_RELEASE=$(PKG_RELEASE)'
	@echo 'PKG_LICENSE=$(PKG_LICENSE)'
	@echo 'PKG_BUILD_DEPENDS=$(PKG_BUILD_DEPENDS)'
	@echo 'PKG_SOURCE_PROTO=$(PKG_SOURCE_PROTO)'
	@echo 'SECTION=$(SECTION)'
	@echo 'CATEGORY=$(CATEGORY)'
	@echo 'TITLE=$(TITLE)'
	@echo 'DEPENDS=$(DEPENDS)'
	@echo 'CONFFILES=$(strip $(Package/$(1)/conffiles))'

install-root:
	$(call Package/$(1)/install,$(ROOT))
endef
