'use strict';
// The package around the view: the feed Makefile, the menu entry and the ACL.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const REPOSITORY = path.resolve(__dirname, '..', '..');
const APP = path.join(REPOSITORY, 'openwrt', 'luci-app-dynhost');

function read(...parts) {
	return fs.readFileSync(path.join(...parts), 'utf8');
}

// A `KEY:=value` line of a Makefile; null when there is none.
function makeVariable(text, name) {
	const match = new RegExp(`^${name}:=(.*)$`, 'm').exec(text);
	return match ? match[1].trim() : null;
}

// A `key = "value"` line of Cargo.toml's [package].
function cargoField(name) {
	const pkg = read(REPOSITORY, 'Cargo.toml').split(/^\[/m).find((table) => table.startsWith('package]'));
	return new RegExp(`^${name} = "([^"]*)"$`, 'm').exec(pkg)[1];
}

test('the Makefile is a LuCI feed Makefile for the dynhost release it belongs to', () => {
	const makefile = read(APP, 'Makefile');
	assert.equal(makeVariable(makefile, 'PKG_VERSION'), cargoField('version'), 'in step with Cargo.toml');
	assert.equal(makeVariable(makefile, 'PKG_LICENSE'), cargoField('license'));
	assert.equal(makeVariable(makefile, 'PKG_LICENSE'), makeVariable(read(REPOSITORY, 'openwrt', 'Makefile'), 'PKG_LICENSE'));
	assert.equal(makeVariable(makefile, 'LUCI_PKGARCH'), 'all');
	assert.ok(makeVariable(makefile, 'LUCI_TITLE'));
	assert.ok(makeVariable(makefile, 'LUCI_DEPENDS').split(/\s+/).includes('+dynhost'));
	assert.match(makefile, /^include \$\(TOPDIR\)\/rules\.mk$/m);
	assert.match(makefile, /^include \.\.\/\.\.\/luci\.mk$/m);
	assert.match(makefile, /^# call BuildPackage - OpenWrt buildroot signature$/m);
});

test('the menu puts the page under Services and points at the view', () => {
	const menu = JSON.parse(read(APP, 'root', 'usr', 'share', 'luci', 'menu.d', 'luci-app-dynhost.json'));
	assert.deepEqual(Object.keys(menu), ['admin/services/dynhost']);
	const entry = menu['admin/services/dynhost'];
	assert.equal(entry.title, 'DynHost');
	assert.deepEqual(entry.action, { type: 'view', path: 'dynhost/overview' });
	assert.deepEqual(entry.depends.acl, ['luci-app-dynhost'], 'shown only to those the ACL lets in');
	assert.ok(fs.existsSync(path.join(APP, 'htdocs', 'luci-static', 'resources', 'view', entry.action.path + '.js')));
});

test('the ACL grants uci dynhost, the three commands and the ubus call that runs them, and nothing else', () => {
	const acl = JSON.parse(read(APP, 'root', 'usr', 'share', 'rpcd', 'acl.d', 'luci-app-dynhost.json'));
	assert.deepEqual(Object.keys(acl), ['luci-app-dynhost']);
	const grant = acl['luci-app-dynhost'];
	assert.deepEqual(Object.keys(grant).sort(), ['description', 'read', 'write']);
	assert.deepEqual(grant.read, {
		file: { '/usr/bin/dynhost status -j': ['exec'], '/sbin/logread -e dynhost': ['exec'] },
		// uhttpd forwards a browser's file.exec only with this; rpcd still checks the lines.
		ubus: { file: ['exec'] },
		uci: ['dynhost']
	});
	assert.deepEqual(grant.write, {
		file: { '/etc/init.d/dynhost update': ['exec'] },
		uci: ['dynhost']
	});
	// rpcd matches these with fnmatch(): a wildcard would let other command lines through.
	for (const command of Object.keys(grant.read.file).concat(Object.keys(grant.write.file)))
		assert.doesNotMatch(command, /[*?[\]\\]/, command);
});
