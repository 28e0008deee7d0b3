# Stand-in for the packages feed's lang/rust/rust-package.mk (with rust-values.mk): the two
# things a package Makefile uses.
RUST_ARCH_DEPENDS:=@(aarch64||arm||i386||i686||loongarch64||mips||mipsel||mips64||mips64el||powerpc64||riscv64||x86_64)

define RustBinPackage
  ifndef Package/$(1)/install
    define Package/$(1)/install
	$$(INSTALL_DIR) $$(1)/usr/bin/
	$$(INSTALL_BIN) $$(PKG_INSTALL_DIR)/bin/* $$(1)/usr/bin/
    endef
  endif
endef
