'use strict';
// The page's ACL (root/usr/share/rpcd/acl.d/luci-app-dynhost.json) in OpenWrt's real rpcd: the
// ubusd, ubus and rpcd of the box's root, which `scripts/openwrt-box build` builds from
// ../shared/openwrt-userland (in target/openwrt-box, or $DYNHOST_BOX_DIR). ubusd and rpcd run
// chrooted in that root in a private mount namespace (root needed), under a read-only overlay of
// this test's files and a throw-away upper layer, on a socket of their own: the real dynhost at
// /usr/bin/dynhost, stand-ins for /sbin/logread and /etc/init.d/dynhost that print their
// arguments, and two rpcd logins limited to the app's groups, one with write access and one
// read-only. Calls go through the root's `ubus` client, as uhttpd would forward them.
//
// Without root, unshare, chroot or the built root it skips; DYNHOST_REQUIRE_TOOLS makes that a
// failure.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const { dynhostBinary, skipReason } = require('../real-dynhost.js');

const REPOSITORY = path.resolve(__dirname, '..', '..', '..');
const APP = path.join(REPOSITORY, 'openwrt', 'luci-app-dynhost', 'root');
const BOX = process.env.DYNHOST_BOX_DIR || path.join(REPOSITORY, 'target', 'openwrt-box');
const BOX_ROOT = path.join(BOX, 'root');

// rpcd's (ubus's) status codes.
const OK = 0;
const PERMISSION_DENIED = 6;

const ADMIN = 'dynhost-admin';
// rpcd checks a login's password with crypt(3): this is `openssl passwd -1 -salt dynhost` of it.
const PASSWORD = 'dynhost-test-pw';
const PASSWORD_HASH = '$1$dynhost$SzEHFtb58ay./fDK9QY8F.';
const READER = 'dynhost-reader';

function missing() {
	if (process.getuid() !== 0)
		return 'not root: the chroot and mount namespace need it';
	for (const tool of ['unshare', 'chroot', 'mount', 'ldconfig', 'ldd'])
		if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
			return `${tool} is missing`;
	for (const program of ['sbin/ubusd', 'sbin/rpcd', 'bin/ubus'])
		if (!fs.existsSync(path.join(BOX_ROOT, program)))
			return `no ${path.join(BOX_ROOT, program)} (scripts/openwrt-box build)`;
	return null;
}

const skip = skipReason(missing());

let work;
let box;
let ubusEnv;

function ubusClient() {
	return path.join(BOX_ROOT, 'bin', 'ubus');
}

// One ubus call: { status, data } with ubus's exit status and its parsed output.
function call(object, method, args) {
	const result = spawnSync(ubusClient(), ['-s', path.join(work, 'tmp', 'ubus.sock'), '-t', '10',
		'call', object, method, JSON.stringify(args || {})], { env: ubusEnv, encoding: 'utf8' });
	const out = result.stdout.trim();
	// The client exits with the negated status.
	return { status: (256 - result.status) % 256, data: out ? JSON.parse(out) : null, stderr: result.stderr };
}

function login(user) {
	const reply = call('session', 'login', { username: user, password: PASSWORD });
	assert.equal(reply.status, OK, `login ${user}: ${reply.stderr}`);
	return reply.data.ubus_rpc_session;
}

function exec(session, command, params) {
	return call('file', 'exec', { ubus_rpc_session: session, command, params });
}

function write(file, text, mode) {
	fs.mkdirSync(path.dirname(file), { recursive: true });
	fs.writeFileSync(file, text, { mode: mode || 0o644 });
}

// The chroot: the router's files in layer/ over the box's root, the chroot's /tmp (where the
// client reaches the socket) in tmp/, bound in inside the namespace.
function layOut() {
	const layer = path.join(work, 'layer');
	write(path.join(layer, 'usr', 'bin', 'dynhost'), fs.readFileSync(dynhostBinary()), 0o755);
	// The dynhost under test may be this machine's build: the libraries it loads that the root
	// lacks come from this machine, at their own paths (ldd lists none for a static one).
	const ldd = spawnSync('ldd', [dynhostBinary()], { encoding: 'utf8' }).stdout || '';
	for (const library of ldd.match(/\/\S+/g) || [])
		if (!fs.existsSync(path.join(BOX_ROOT, library)))
			write(path.join(layer, library), fs.readFileSync(library), 0o755);
	write(path.join(layer, 'usr', 'share', 'rpcd', 'acl.d', 'luci-app-dynhost.json'),
		fs.readFileSync(path.join(APP, 'usr', 'share', 'rpcd', 'acl.d', 'luci-app-dynhost.json')));
	write(path.join(layer, 'sbin', 'logread'), '#!/bin/sh\necho "logread $*"\n', 0o755);
	write(path.join(layer, 'etc', 'init.d', 'dynhost'), '#!/bin/sh\necho "init.d dynhost $*"\n', 0o755);
	write(path.join(layer, 'etc', 'shadow-secret'), 'root-only\n', 0o600);
	write(path.join(layer, 'etc', 'dynhost-ca.pem'), '-----BEGIN CERTIFICATE-----\n');
	write(path.join(layer, 'etc', 'config', 'dynhost'),
		"config dynhost 'global'\n\toption cacert '/etc/dynhost-ca.pem'\n\n" +
		"config record 'home'\n\toption hostname 'home.example.com'\n\toption username 'example.com-home'\n\toption password 'secret-Pw'\n", 0o600);
	write(path.join(layer, 'etc', 'config', 'network'), "config interface 'wan'\n\toption proto 'dhcp'\n");
	write(path.join(layer, 'etc', 'config', 'rpcd'),
		`config login\n\toption username '${ADMIN}'\n\toption password '${PASSWORD_HASH}'\n\tlist read 'luci-app-dynhost'\n\tlist write 'luci-app-dynhost'\n\n` +
		`config login\n\toption username '${READER}'\n\toption password '${PASSWORD_HASH}'\n\tlist read 'luci-app-dynhost'\n`);
	// /var is /tmp in the root, as on a router.
	for (const dir of ['root', 'rw', 'tmp/run'])
		fs.mkdirSync(path.join(work, dir), { recursive: true });
	return { root: path.join(work, 'root'), layer };
}

before(async () => {
	if (skip)
		return;
	work = fs.mkdtempSync(path.join(os.tmpdir(), 'dynhost-rpcd-'));
	const { root, layer } = layOut();
	ubusEnv = { PATH: process.env.PATH, LD_LIBRARY_PATH: path.join(BOX_ROOT, 'usr', 'lib') };
	const rw = path.join(work, 'rw');
	const script = [
		'set -e',
		// The upper layer on a tmpfs of the namespace: whatever the programs write is gone with it.
		`mount -t tmpfs rw ${rw}`,
		`mkdir ${rw}/upper ${rw}/work`,
		`mount -t overlay overlay -o lowerdir=${layer}:${BOX_ROOT},upperdir=${rw}/upper,workdir=${rw}/work ${root}`,
		`mount --bind ${work}/tmp ${root}/tmp`,
		`mount --rbind /dev ${root}/dev`,
		// A root built by a user has no loader cache (the box's boot makes it likewise).
		`[ -f ${root}/etc/ld.so.cache ] || ldconfig -r ${root}`,
		`chroot ${root} /sbin/ubusd -s /tmp/ubus.sock &`,
		// The socket file exists from bind(), before ubusd listens: wait until it answers.
		`until chroot ${root} /bin/ubus -s /tmp/ubus.sock list >/dev/null 2>&1; do sleep 0.05; done`,
		`exec chroot ${root} /sbin/rpcd -s /tmp/ubus.sock`
	].join('\n');
	// A process group of its own, so that after() stops ubusd and rpcd with it.
	box = spawn('unshare', ['--mount', '--propagation', 'private', '--fork', 'sh', '-c', script],
		{ stdio: ['ignore', 'inherit', 'inherit'], detached: true });
	// rpcd is ready once its session object answers.
	for (let tries = 0; ; tries++) {
		if (fs.existsSync(path.join(work, 'tmp', 'ubus.sock')) && call('session', 'list', {}).status === OK)
			break;
		assert.ok(tries < 200, 'rpcd did not come up within 10 s');
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
});

after(() => {
	if (box)
		process.kill(-box.pid, 'SIGTERM');
	if (work)
		fs.rmSync(work, { recursive: true, force: true });
});

test('the page\'s three command lines run for a login with the app\'s groups', { skip }, () => {
	const session = login(ADMIN);
	const status = exec(session, '/usr/bin/dynhost', ['status', '-j']);
	assert.equal(status.status, OK, status.stderr);
	assert.equal(status.data.code, 0, status.data.stderr);
	assert.equal(JSON.parse(status.data.stdout).records[0].hostname, 'home.example.com', 'the real dynhost read the router\'s config');
	const log = exec(session, '/sbin/logread', ['-e', 'dynhost']);
	assert.equal(log.status, OK, log.stderr);
	assert.equal(log.data.stdout, 'logread -e dynhost\n');
	const update = exec(session, '/etc/init.d/dynhost', ['update']);
	assert.equal(update.status, OK, update.stderr);
	assert.equal(update.data.stdout, 'init.d dynhost update\n');
});

test('uhttpd may forward the page\'s file.exec calls: the read group grants the ubus scope', { skip }, () => {
	for (const user of [ADMIN, READER]) {
		const session = login(user);
		const access = (object, method) =>
			call('session', 'access', { ubus_rpc_session: session, scope: 'ubus', object, function: method }).data.access;
		assert.equal(access('file', 'exec'), true, `${user}: ubus file.exec`);
		for (const method of ['read', 'write', 'list', 'stat', 'remove'])
			assert.equal(access('file', method), false, `${user}: ubus file.${method} is not the app's`);
	}
});

test('a read-only login reads the status and the log but cannot run the update', { skip }, () => {
	const session = login(READER);
	assert.equal(exec(session, '/usr/bin/dynhost', ['status', '-j']).data.code, 0);
	assert.equal(exec(session, '/sbin/logread', ['-e', 'dynhost']).status, OK);
	assert.equal(exec(session, '/etc/init.d/dynhost', ['update']).status, PERMISSION_DENIED);
	assert.equal(call('uci', 'get', { ubus_rpc_session: session, config: 'dynhost' }).status, OK);
	assert.equal(call('uci', 'set', { ubus_rpc_session: session, config: 'dynhost', section: 'home', values: { enabled: '0' } }).status,
		PERMISSION_DENIED);
});

test('every other program, argument, file and uci config is refused', { skip }, () => {
	const session = login(ADMIN);
	const refused = [
		['/usr/bin/dynhost', ['update']],
		['/usr/bin/dynhost', ['status']],
		['/usr/bin/dynhost', ['status', '-j', '-c', '/tmp/other']],
		['/usr/bin/dynhost', ['-c', '/tmp/other', 'status', '-j']],
		['/sbin/logread', []],
		['/sbin/logread', ['-e', 'dropbear']],
		['/sbin/logread', ['-e', 'dynhost', '-f']],
		['/etc/init.d/dynhost', ['stop']],
		['/etc/init.d/dynhost', ['update', 'now']],
		['/bin/sh', ['-c', 'id']],
		['/usr/bin/id', []]
	];
	for (const [command, params] of refused)
		assert.equal(exec(session, command, params).status, PERMISSION_DENIED, `${command} ${params.join(' ')}`);
	assert.equal(call('file', 'read', { ubus_rpc_session: session, path: '/etc/shadow-secret' }).status, PERMISSION_DENIED);
	assert.equal(call('file', 'read', { ubus_rpc_session: session, path: '/etc/config/dynhost' }).status, PERMISSION_DENIED);
	assert.equal(call('file', 'write', { ubus_rpc_session: session, path: '/tmp/x', data: 'x' }).status, PERMISSION_DENIED);
	assert.equal(call('file', 'list', { ubus_rpc_session: session, path: '/etc' }).status, PERMISSION_DENIED);
	assert.equal(call('uci', 'get', { ubus_rpc_session: session, config: 'network' }).status, PERMISSION_DENIED);
	assert.equal(call('uci', 'set', { ubus_rpc_session: session, config: 'network', section: 'wan', values: { proto: 'static' } }).status,
		PERMISSION_DENIED);
	// What the app may do still works in the same session: the refusals above are the ACL's.
	assert.equal(call('uci', 'get', { ubus_rpc_session: session, config: 'dynhost' }).status, OK);
	assert.equal(call('uci', 'set', { ubus_rpc_session: session, config: 'dynhost', section: 'home', values: { enabled: '0' } }).status, OK);
});
