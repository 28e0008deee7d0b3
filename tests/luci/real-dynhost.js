'use strict';
// The real dynhost binary (after `cargo build`; DYNHOST_BIN names another one), for the tests
// that check the page against it: what `status -j` prints, and which config values it refuses.
//
// The status scenario is one record for every case the status table shows, laid out as a
// config file and the state files dynhost keeps. The fixture is its output:
//   node tests/luci/real-dynhost.js > tests/luci/fixtures/status.json
// and status.test.js checks that the fixture is still what the binary prints.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const REPOSITORY = path.resolve(__dirname, '..', '..');
const SERVER = 'https://dns.eu.ovhapis.com';
// 2024-01-01T00:00:00Z: the last attempts are at a fixed time in the past, so that the output
// never changes, and the waits that end a day later are over.
const ATTEMPT = 1704067200;
// Far enough ahead that "waiting" stays true for as long as this file is used.
const FUTURE = 4102444800;

// name → record options, and the state file the daemon would have written (null: none yet).
const RECORDS = [
	['never', {}, null],
	['updated', {}, { result: 'good', published: '203.0.113.10' }],
	['unchanged', { family: 'ipv6', interface: 'wan6' }, { result: 'nochg', published: '2001:db8::10' }],
	['failing', {}, { result: 'failed', failures: 3, next_attempt: FUTURE, message: 'server trouble: HTTP 503: "911"', published: '203.0.113.20', attempted: '203.0.113.21' }],
	['failed_once', {}, { result: 'failed', failures: 1, next_attempt: ATTEMPT + 60, message: 'connection failed: timed out' }],
	['badauth', {}, { result: 'badauth', message: 'refused by the server: badauth (wrong username or password)' }],
	['nohost', {}, { result: 'nohost', message: 'refused by the server: nohost (host name not in the zone or not covered by this username)' }],
	['notfqdn', {}, { result: 'notfqdn', message: 'refused by the server: notfqdn (host name is not a fully qualified domain name)' }],
	['badsys', {}, { result: 'badsys', message: 'refused by the server: badsys (the server rejected the request format (a dynhost bug: please report it))' }],
	['badagent', {}, { result: 'badagent', message: 'refused by the server: badagent (the server blocked this client or the request format)' }],
	['abuse', {}, { result: 'abuse', failures: 1, next_attempt: FUTURE, message: 'refused by the server: abuse (the record is blocked for too many updates)' }],
	['abuse_over', {}, { result: 'abuse', failures: 1, next_attempt: ATTEMPT + 86400, message: 'refused by the server: abuse (the record is blocked for too many updates)' }],
	['changed', {}, { result: 'badauth', fingerprint: 'stale', message: 'refused by the server: badauth (wrong username or password)' }],
	['off', { enabled: '0' }, { result: 'good', published: '203.0.113.30' }]
];

function hostname(name) {
	return name.replace(/_/g, '-') + '.example.com';
}

function password(name) {
	return 'secret-' + name + '-Pw';
}

// The state dir's fingerprint key (state.rs: 32 bytes in the file `key`), fixed for the fixture.
const KEY = Buffer.alloc(32, 7);

// decision.rs fingerprint(): HMAC-SHA-256 with the key over the fields the server sees, each
// after its length as 8 big-endian bytes.
function fingerprint(fields) {
	const hmac = crypto.createHmac('sha256', KEY);
	for (const field of fields) {
		const bytes = Buffer.from(field, 'utf8');
		const length = Buffer.alloc(8);
		length.writeBigUInt64BE(BigInt(bytes.length));
		hmac.update(length);
		hmac.update(bytes);
	}
	return hmac.digest('hex');
}

// A UCI value in single quotes; a quote inside ends the string, is escaped, and starts another.
function uciQuote(value) {
	return "'" + String(value).replace(/'/g, "'\\''") + "'";
}

function uciSection(type, name, options) {
	return `config ${type} '${name}'\n` +
		Object.entries(options).map(([key, value]) => `\toption ${key} ${uciQuote(value)}\n`).join('');
}

function writeScenario(dir) {
	const cacert = path.join(dir, 'ca.pem');
	fs.writeFileSync(cacert, '-----BEGIN CERTIFICATE-----\n');
	const stateDir = path.join(dir, 'state');
	fs.mkdirSync(stateDir, { mode: 0o700 });
	fs.writeFileSync(path.join(stateDir, 'key'), KEY, { mode: 0o600 });
	let config = uciSection('dynhost', 'global', { cacert: cacert });
	for (const [name, options, state] of RECORDS) {
		const record = Object.assign({ hostname: hostname(name), username: 'example.com-' + name, password: password(name), family: 'ipv4' }, options);
		config += uciSection('record', name, record);
		if (!state)
			continue;
		const file = {
			fingerprint: state.fingerprint || fingerprint([record.hostname, record.username, record.password, record.family, SERVER]),
			published: state.published || null,
			attempted: state.attempted || state.published || '203.0.113.99',
			last_result: state.result,
			last_message: state.message || null,
			last_attempt: ATTEMPT,
			last_success: state.published ? ATTEMPT : null,
			failures: state.failures || 0,
			next_attempt: state.next_attempt || null
		};
		fs.writeFileSync(path.join(stateDir, `${record.hostname}.${record.family}.json`), JSON.stringify(file), { mode: 0o600 });
	}
	const configPath = path.join(dir, 'dynhost');
	fs.writeFileSync(configPath, config, { mode: 0o600 });
	return { config: configPath, stateDir: stateDir };
}

function dynhostBinary() {
	const binary = process.env.DYNHOST_BIN || path.join(REPOSITORY, 'target', 'debug', 'dynhost');
	return fs.existsSync(binary) ? binary : null;
}

// What `dynhost status -j` prints for the scenario, parsed; null without a binary.
function realStatus() {
	const binary = dynhostBinary();
	if (!binary)
		return null;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dynhost-luci-'));
	try {
		const scenario = writeScenario(dir);
		const output = execFileSync(binary, ['-c', scenario.config, '-s', scenario.stateDir, 'status', '-j'], { encoding: 'utf8' });
		return { status: JSON.parse(output), passwords: RECORDS.map(([name]) => password(name)), text: output };
	}
	finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

// Runs `status -j` on a config of one global section and one record: null when dynhost takes
// it, else what it said.
function daemonRefusal(globalOptions, recordOptions) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dynhost-luci-'));
	try {
		const cacert = path.join(dir, 'ca.pem');
		fs.writeFileSync(cacert, '-----BEGIN CERTIFICATE-----\n');
		const config = path.join(dir, 'dynhost');
		fs.writeFileSync(config, uciSection('dynhost', 'global', Object.assign({ cacert: cacert }, globalOptions)) +
			uciSection('record', 'home', recordOptions), { mode: 0o600 });
		try {
			execFileSync(dynhostBinary(), ['-c', config, '-s', path.join(dir, 'state'), 'status', '-j'], { stdio: 'pipe' });
			return null;
		}
		catch (error) {
			if (error.status !== 2)
				throw error;
			return String(error.stderr);
		}
	}
	finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

// The skip reason of a test file that needs outside tools: `missing` (what its own check found
// lacking) or the lack of a dynhost binary, else false. Under DYNHOST_REQUIRE_TOOLS a lack is an
// error instead.
function skipReason(missing) {
	const reason = missing || (dynhostBinary() ? null : 'no dynhost binary: cargo build, or set DYNHOST_BIN');
	if (reason && process.env.DYNHOST_REQUIRE_TOOLS)
		throw new Error('required: ' + reason);
	return reason || false;
}

module.exports = { dynhostBinary, realStatus, daemonRefusal, skipReason, uciSection, ATTEMPT, FUTURE };

if (require.main === module) {
	const real = realStatus();
	if (!real) {
		console.error('no dynhost binary: run cargo build, or set DYNHOST_BIN');
		process.exit(1);
	}
	process.stdout.write(JSON.stringify(real.status, null, 2) + '\n');
}
