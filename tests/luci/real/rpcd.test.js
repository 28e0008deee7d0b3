'use strict';
// The page's ACL (root/usr/share/rpcd/acl.d/luci-app-dynhost.json) in OpenWrt's real rpcd, built
// by build-rpcd from ../shared/openwrt-userland/sources (DYNHOST_OPENWRT_SOURCES names another
// folder). ubusd and rpcd run chrooted in a private mount namespace (root needed), on a socket of
// their own, in a root laid out as on a router: the real dynhost at /usr/bin/dynhost, stand-ins
// for /sbin/logread and /etc/init.d/dynhost that print their arguments, and two rpcd logins
// limited to the app's groups, one with write access and one read-only. Calls go through the
// built `ubus` client, as uhttpd would forward them.
//
// Without root, unshare, cmake or the sources it skips; DYNHOST_REQUIRE_TOOLS makes that a
// failure.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawn, spawnSync } = require('node:child_process');

const { dynhostBinary, skipReason } = require('../real-dynhost.js');

const REPOSITORY = path.resolve(__dirname, '..', '..', '..');
const APP = path.join(REPOSITORY, 'openwrt', 'luci-app-dynhost', 'root');
const BUILD = process.env.DYNHOST_RPCD_BUILD || path.join(REPOSITORY, 'target', 'luci-rpcd');
const SOURCES = process.env.DYNHOST_OPENWRT_SOURCES ||
	path.resolve(REPOSITORY, '..', 'shared', 'openwrt-userland', 'sources');

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
	for (const tool of ['unshare', 'chroot', 'cmake', 'make', 'gcc', 'pkg-config'])
		if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
			return `${tool} is missing`;
	if (!fs.existsSync('/usr/include/json-c/json.h'))
		return 'libjson-c-dev is missing';
	if (!fs.existsSync(path.join(BUILD, 'done')) && !fs.existsSync(path.join(SOURCES, 'rpcd.tar.gz')))
		return `no OpenWrt sources in ${SOURCES} (set DYNHOST_OPENWRT_SOURCES)`;
	return null;
}

const skip = skipReason(missing());

let work;
let box;
let ubusEnv;

function ubusClient() {
	return path.join(BUILD, 'root', 'usr', 'bin', 'ubus');
}

// One ubus call: { status, data } with ubus's exit status and its parsed output.
function call(object, method, args) {
	const result = spawnSync(ubusClient(), ['-s', path.join(work, 'root', 'tmp', 'ubus.sock'), '-t', '10',
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

// The chroot: the router's files in root/, programs from layer/ over the build over the host's
// /usr (mounted inside the namespace only), the socket in root/tmp where the client can reach it.
function layOut() {
	const root = path.join(work, 'root');
	const layer = path.join(work, 'layer');
	write(path.join(layer, 'bin', 'dynhost'), fs.readFileSync(dynhostBinary()), 0o755);
	write(path.join(layer, 'share', 'rpcd', 'acl.d', 'luci-app-dynhost.json'),
		fs.readFileSync(path.join(APP, 'usr', 'share', 'rpcd', 'acl.d', 'luci-app-dynhost.json')));
	write(path.join(root, 'sbin', 'logread'), '#!/bin/sh\necho "logread $*"\n', 0o755);
	write(path.join(root, 'etc', 'init.d', 'dynhost'), '#!/bin/sh\necho "init.d dynhost $*"\n', 0o755);
	// ubusd refuses a client whose user it cannot name.
	write(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
	write(path.join(root, 'etc', 'group'), 'root:x:0:\n');
	write(path.join(root, 'etc', 'shadow-secret'), 'root-only\n', 0o600);
	write(path.join(root, 'etc', 'dynhost-ca.pem'), '-----BEGIN CERTIFICATE-----\n');
	write(path.join(root, 'etc', 'config', 'dynhost'),
		"config dynhost 'global'\n\toption cacert '/etc/dynhost-ca.pem'\n\n" +
		"config record 'home'\n\toption hostname 'home.example.com'\n\toption username 'example.com-home'\n\toption password 'secret-Pw'\n", 0o600);
	write(path.join(root, 'etc', 'config', 'network'), "config interface 'wan'\n\toption proto 'dhcp'\n");
	write(path.join(root, 'etc', 'config', 'rpcd'),
		`config login\n\toption username '${ADMIN}'\n\toption password '${PASSWORD_HASH}'\n\tlist read 'luci-app-dynhost'\n\tlist write 'luci-app-dynhost'\n\n` +
		`config login\n\toption username '${READER}'\n\toption password '${PASSWORD_HASH}'\n\tlist read 'luci-app-dynhost'\n`);
	for (const dir of ['usr', 'tmp', 'dev', 'var/run'])
		fs.mkdirSync(path.join(root, dir), { recursive: true });
	for (const dir of ['lib', 'lib64', 'bin'])
		fs.symlinkSync('usr/' + dir, path.join(root, dir));
	return { root, layer };
}

before(async () => {
	if (skip)
		return;
	execFileSync(path.join(__dirname, 'build-rpcd'), [BUILD], { stdio: 'inherit', env: Object.assign({}, process.env, { DYNHOST_OPENWRT_SOURCES: SOURCES }) });
	work = fs.mkdtempSync(path.join(os.tmpdir(), 'dynhost-rpcd-'));
	const { root, layer } = layOut();
	const lib = path.join(BUILD, 'root', 'usr', 'lib');
	ubusEnv = { PATH: process.env.PATH, LD_LIBRARY_PATH: `${lib}:${lib}/x86_64-linux-gnu` };
	const script = [
		'set -e',
		`mount -t overlay overlay -o lowerdir=${layer}:${BUILD}/root/usr:/usr ${root}/usr`,
		`mount --rbind /dev ${root}/dev`,
		`chroot ${root} /usr/sbin/ubusd -s /tmp/ubus.sock &`,
		// The socket file exists from bind(), before ubusd listens: wait until it answers.
		`until chroot ${root} /usr/bin/ubus -s /tmp/ubus.sock list >/dev/null 2>&1; do sleep 0.05; done`,
		`exec chroot ${root} /usr/sbin/rpcd -s /tmp/ubus.sock`
	].join('\n');
	// A process group of its own, so that after() stops ubusd and rpcd with it.
	box = spawn('unshare', ['--mount', '--propagation', 'private', '--fork', 'sh', '-c', script],
		{ stdio: ['ignore', 'inherit', 'inherit'], detached: true });
	// rpcd is ready once its session object answers.
	for (let tries = 0; ; tries++) {
		if (fs.existsSync(path.join(root, 'tmp', 'ubus.sock')) && call('session', 'list', {}).status === OK)
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
