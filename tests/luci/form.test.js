'use strict';
// The form of view/dynhost/overview.js: what it declares, when each option shows, and that every
// validator takes what dynhost takes and refuses what it refuses.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { makeLuci, loadView } = require('./luci-stub.js');
const { dynhostBinary, daemonRefusal } = require('./real-dynhost.js');

const CONFIG_RS = fs.readFileSync(path.resolve(__dirname, '..', '..', 'src', 'config.rs'), 'utf8');

// The names of config.rs API_ENDPOINTS.
function rustEndpoints() {
	const match = /const API_ENDPOINTS[^=]*= \[([^\]]*)\];/.exec(CONFIG_RS);
	assert.ok(match, 'API_ENDPOINTS not found in src/config.rs');
	return [...match[1].matchAll(/\("([^"]+)", "[^"]+"\)/g)].map((m) => m[1]);
}

// The option names of src/config.rs's `option_names!`, by variant: `Hostname = "hostname",`.
function rustOptionNames() {
	const match = /option_names! \{([^}]*)\}/.exec(CONFIG_RS);
	assert.ok(match, 'option_names! not found in src/config.rs');
	return new Map([...match[1].matchAll(/(\w+) = "([^"]*)",/g)].map((m) => [m[1], m[2]]));
}

// A Rust `const NAME: &[OptionName] = &[OptionName::A, ...];` of src/config.rs, as the names
// of its options.
function rustList(name) {
	const match = new RegExp(`const ${name}: [^=]+= &?\\[([^\\]]*)\\]`).exec(CONFIG_RS);
	assert.ok(match, `${name} not found in src/config.rs`);
	const names = rustOptionNames();
	return [...match[1].matchAll(/OptionName::(\w+)/g)].map((m) => {
		assert.ok(names.has(m[1]), `OptionName::${m[1]} has no name in option_names!`);
		return names.get(m[1]);
	});
}

async function renderedForm() {
	const luci = makeLuci();
	luci.execAnswers['/usr/bin/dynhost status -j'] = { code: 0, stdout: '{"records":[]}', stderr: '' };
	luci.execAnswers['/sbin/logread -e dynhost'] = { code: 0, stdout: '', stderr: '' };
	const { view } = loadView(luci);
	await view.render(await view.load());
	const map = luci.modules.form.maps[0];
	const section = (kind) => map.sections.find((s) => s.kind === kind);
	const option = (s, name) => s.children.find((o) => o.option === name);
	return { luci, view, map, global: section('NamedSection'), records: section('GridSection'), option };
}

// LuCI shows an option when it has no depends, or when one of them matches every field.
function shows(option, values) {
	return option.deps.length === 0 ||
		option.deps.some((dep) => Object.entries(dep).every(([field, value]) => values[field] === value));
}

test('the form maps /etc/config/dynhost: the global section and a table of records', async () => {
	const { map, global, records } = await renderedForm();
	assert.equal(map.config, 'dynhost');
	assert.equal(map.sections.length, 2);
	assert.deepEqual([global.section, global.sectiontype], ['global', 'dynhost']);
	assert.equal(records.sectiontype, 'record');
	assert.equal(records.addremove, true, 'records can be added and removed');
});

test('every option dynhost reads is in the form, and nothing else', async () => {
	const { global, records } = await renderedForm();
	assert.deepEqual(global.children.map((o) => o.option).sort(), rustList('GLOBAL_OPTIONS').sort());
	const formOptions = records.children.map((o) => o.option);
	assert.deepEqual(formOptions.sort(), [...rustList('RECORD_OPTIONS'), ...rustList('API_OPTIONS')].sort());
});

test('option types: a checkbox enabled by default, the choices dynhost knows, a hidden password', async () => {
	const { records, option } = await renderedForm();
	const enabled = option(records, 'enabled');
	assert.equal(enabled.kind, 'Flag');
	assert.equal(enabled.default, '1', 'dynhost enables a record without the option');
	assert.equal(enabled.rmempty, false, 'saving writes 1 or 0 rather than dropping the option');
	assert.equal(enabled.editable, true, 'enabled is switched from the table');

	// config.rs family() and source(): the words each accepts.
	assert.equal(option(records, 'family').kind, 'ListValue');
	assert.deepEqual(option(records, 'family').choices.map(([key]) => key), ['ipv4', 'ipv6']);
	assert.equal(option(records, 'family').default, 'ipv4');
	assert.equal(option(records, 'source').kind, 'ListValue');
	assert.deepEqual(option(records, 'source').choices.map(([key]) => key), ['ubus', 'netlink', 'web', 'script']);
	assert.equal(option(records, 'source').default, 'ubus');

	const password = option(records, 'password');
	assert.equal(password.password, true, 'the password is typed into a password field');
	assert.equal(password.modalonly, true, 'the password never shows in the table');
	for (const name of ['hostname', 'username', 'password'])
		assert.equal(option(records, name).rmempty, false, `${name} is required`);

	// config.rs record(): the method, and what api mode requires.
	const method = option(records, 'method');
	assert.equal(method.kind, 'ListValue');
	assert.deepEqual(method.choices.map(([key]) => key), ['dynhost', 'api']);
	assert.equal(method.default, 'dynhost');
	assert.ok(!method.modalonly, 'the table shows each record\'s method');
	for (const name of ['endpoint', 'application_key', 'application_secret', 'consumer_key'])
		assert.equal(option(records, name).rmempty, false, `${name} is required in api mode`);
	for (const name of ['zone', 'ttl'])
		assert.notEqual(option(records, name).rmempty, false, `${name} is optional`);
	assert.deepEqual(option(records, 'endpoint').choices.map(([key]) => key), rustEndpoints());
	assert.equal(option(records, 'ttl').placeholder, 'zone default');
	for (const name of ['application_secret', 'consumer_key']) {
		assert.equal(option(records, name).password, true, `${name} is typed into a password field`);
		assert.equal(option(records, name).modalonly, true, `${name} never shows in the table`);
	}
	for (const name of ['username', 'password', 'server', ...rustList('API_OPTIONS')])
		assert.equal(option(records, name).modalonly, true, `${name} is in the editor only`);
});

test('each method and source shows its own options, and the IPv6 suffix only where dynhost takes it', async () => {
	const { records } = await renderedForm();
	const onlyForMethod = Object.fromEntries([...rustList('DYNHOST_OPTIONS').map((name) => [name, 'dynhost']),
		...rustList('API_OPTIONS').map((name) => [name, 'api'])]);
	assert.deepEqual(onlyForMethod.server, 'dynhost');
	// config.rs SOURCE_OPTIONS: the options only one source reads.
	const sourceOptions = /const SOURCE_OPTIONS[^=]*= \[([^\]]*)\];/.exec(CONFIG_RS)[1];
	const names = rustOptionNames();
	const onlyFor = Object.fromEntries([...sourceOptions.matchAll(/\(OptionName::(\w+), "(\w+)"\)/g)]
		.map(([, option, source]) => [names.get(option), source]));
	assert.deepEqual(onlyFor, { device: 'netlink', check_url: 'web', script: 'script' });

	for (const method of ['dynhost', 'api'])
		for (const family of ['ipv4', 'ipv6'])
			for (const source of ['ubus', 'netlink', 'web', 'script'])
				for (const o of records.children) {
					const expected = o.option in onlyForMethod ? onlyForMethod[o.option] === method
						: o.option in onlyFor ? onlyFor[o.option] === source
						: ['ipv6_suffix', 'prefix_interface'].includes(o.option)
							? family === 'ipv6' && ['ubus', 'netlink'].includes(source)
						: true;
					assert.equal(shows(o, { method, family, source }), expected, `${o.option} with ${method}/${family}/${source}`);
				}
});

// Good and bad values for each option, from the tests of src/config.rs and the rules it cites.
const CASES = {
	hostname: {
		good: ['home.example.com', 'HOME.Example.COM', 'a.b', 'x-1.y2.example', 'a'.repeat(63) + '.com',
			['a'.repeat(62), 'a'.repeat(62), 'a'.repeat(62), 'a'.repeat(60), 'com'].join('.')],
		bad: ['', 'localhost', 'bad_host.example.com', '-a.example.com', 'a-.example.com', 'home.example.com.',
			'a..b', '.a.b', '*.example.com', 'a'.repeat(64) + '.com', 'h\u00f4me.example.com', 'a b.example.com',
			['a'.repeat(62), 'a'.repeat(62), 'a'.repeat(62), 'a'.repeat(62), 'com'].join('.')]
	},
	username: {
		good: ['example.com-router', 'a b.c@d', 'caf\u00e9'],
		bad: ['', 'a:b', 'a\tb', 'a\u007fb', 'a\u0085b', 'a\u0001']
	},
	password: {
		good: ['change-me', 'p@ss\' "w0rd#1;:\\ \u00e9', ' spaced '],
		bad: ['', 'hunter2\tSecret', 'x\u0001', 'x\u007f', 'x\u009f']
	},
	check_interval: {
		good: ['', '30', '600', '604800'],
		bad: ['29', '604801', '0', '10m', '-5', '1.5', ' 600', 'abc', '99999999999999999999999']
	},
	timeout: {
		good: ['', '1', '30', '3600'],
		bad: ['0', '3601', 'x', '1e3']
	},
	interface: {
		good: ['', 'wan', 'wan_6', 'WAN6', 'lan2'],
		bad: ['wan-6', 'wan.6', 'pppoe wan', 'w\u00e4n', '@wan']
	},
	device: {
		good: ['', 'eth0', 'pppoe-wan', 'eth0.2', 'fifteen-chars-x', 'br@lan', '\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9'],
		bad: ['a/b', 'a:1', 'a b', '.', '..', 'sixteen-chars-xx', 'a\tb', 'a\u00a0b',
			'\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9']
	},
	server: {
		good: ['', 'https://dns.eu.ovhapis.com', 'https://127.0.0.1:8443', 'https://dns.example/',
			'https://[2001:db8::1]:8443'],
		bad: ['https://dns.example/base/', 'https://a?b', 'https://dns.example#x', 'https://u:p@dns.example',
			'https://dns.example:x', 'https://:8443', 'http://dns.eu.ovhapis.com', 'dns.eu.ovhapis.com', 'HTTP://dns.eu.ovhapis.com', 'HTTPS://dns.example',
			'ftp://dns.eu.ovhapis.com', 'https://', 'https:///nic/update', 'https://?x', 'https://#x',
			'https://dns.example/a b', ' https://dns.example', 'https://dns.example/\u00a0', 'https://dns.example/\u0007']
	},
	check_url: {
		good: ['', 'https://ip.example/', 'https://api6.ipify.org/', 'https://ip.example:8443/a/b?format=text'],
		bad: ['http://ip.example/', 'https://', 'https:///x', 'ip.example', 'https://u@ip.example/',
			'https://ip.example/#x']
	},
	script: {
		good: ['/usr/bin/my-ip', ' /usr/bin/my-ip  --v4\targ '],
		bad: ['', ' ', ' \t ']
	},
	ipv6_suffix: {
		good: ['', '::1', '::1:2:3:4', '::a00:27ff:fe12:3456', '0:0:0:0:1:2:3:4', '::0:1:2:3:4', '::1.2.3.4',
			'::ffff:1.2.3.4', '::ABCD:ef01', '0000:0000:0000:0000:0000:0000:0000:0001'],
		bad: ['1:2:3:4', '::1:2:3:4/64', '2001:db8::1', '::', '0::0', '::ffff:1:0:0:1', 'fe80::1%eth0', ':::1',
			'::1::2', '::12345', '::1.2.3', '::01.2.3.4', '::1.2.3.256', '1.2.3.4', '::g', 'garbage', ' ::1',
			'1:2:3:4:5:6:7:8:9', ':1::2', '::1:', '0:0:0:0:0:0:1.2.3.4:5']
	},
	prefix_interface: { good: ['', 'lan', 'srv_lan', 'guest2'], bad: ['lan-2', 'lan.2', 'my lan'] }
};

// In api mode, for the record below (API_RECORD): the options only it reads, and the host
// names and zones it takes. Each is [option, the record's method and host name, good, bad].
const API_CASES = [
	['hostname', { method: 'api' }, ['home.example.com', 'example.com', '*.example.com', '*.Home.Example.com'],
		['', '*', '*.', '*.com', '*example.com', '**.example.com', '*.*.example.com', 'a.*.example.com',
			'*.example.com.', '.example.com', 'bad_host.example.com', '*.' + ['a'.repeat(62), 'a'.repeat(62), 'a'.repeat(62), 'a'.repeat(62), 'com'].join('.')]],
	['zone', { method: 'api', hostname: '*.home.example.com' }, ['', 'home.example.com', 'example.com', 'Example.COM', 'HOME.example.com'],
		['com', 'ome.example.com', 'www.home.example.com', '*.home.example.com', 'example.com.', 'example.org', 'exa_mple.com', ' example.com']],
	['zone', { method: 'api', hostname: 'example.com' }, ['example.com'], ['www.example.com', 'ample.com']],
	['endpoint', { method: 'api' }, ['ovh-eu', 'ovh-ca', 'ovh-us', 'https://eu.api.ovh.com/1.0', 'https://127.0.0.1:8443/1.0',
		'https://proxy.example/', 'https://[2001:db8::1]:8443/api/1.0/', 'https://proxy.example'],
	['', 'OVH-EU', 'ovh-eu ', 'ovh', 'ovh-fr', 'eu.api.ovh.com', 'http://eu.api.ovh.com/1.0', 'https://', 'https:///1.0',
		'https://eu.api.ovh.com/1.0?x=1', 'https://eu.api.ovh.com/1.0#x', 'https://u:p@eu.api.ovh.com/1.0',
		'https://eu.api.ovh.com:x/1.0', 'https://eu.api.ovh.com/1 .0', 'HTTPS://eu.api.ovh.com']],
	['application_key', { method: 'api' }, ['AK', '7kbG7Bk7S9Nt7ZSV', '!~"#\'\\'],
		['', 'A K', 'AK\t', 'AK\u0001', 'AK\u007f', 'caf\u00e9', 'AK\u00a0']],
	['application_secret', { method: 'api' }, ['AS', 'EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF', '$1$;:@'],
		['', ' AS', 'A S', 'AS\u0001', 'h\u00e9llo']],
	['consumer_key', { method: 'api' }, ['CK', 'MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1'], ['', 'C K', 'CK\u0085', 'CK\u2028']],
	['ttl', { method: 'api' }, ['', '60', '3600', '86400'], ['59', '86401', '0', '1h', '-60', '6e1', ' 60', '60.0']]
];

// The option's validator as the form calls it, for a record whose method and host name the
// form shows as in `record`, checked against the one the view exposes.
async function validateOf(name, record = {}) {
	const { view, map, global, records, option } = await renderedForm();
	map.formValues.home = record;
	const o = option(global, name) || option(records, name);
	assert.equal(typeof o.validate, 'function', `${name} has a validator`);
	const shown = Object.assign({ method: 'dynhost', hostname: '' }, record);
	return (value) => {
		const verdict = o.validate('home', value);
		assert.equal(verdict, view.validators[name](value, shown), `${name}: the form uses the exposed validator`);
		return verdict;
	};
}

// Every case: [option, the record as the form shows it, good, bad].
const ALL_CASES = Object.entries(CASES).map(([name, { good, bad }]) => [name, {}, good, bad]).concat(API_CASES);

for (const [name, record, good, bad] of ALL_CASES) {
	test(`validator of ${name}${record.method ? ' in ' + JSON.stringify(record) : ''}: takes what dynhost takes, refuses the rest in words`, async () => {
		const validate = await validateOf(name, record);
		for (const value of good)
			assert.equal(validate(value), true, `${name} ${JSON.stringify(value)} should be accepted`);
		for (const value of bad) {
			const verdict = validate(value);
			assert.equal(typeof verdict, 'string', `${name} ${JSON.stringify(value)} should be refused`);
			assert.ok(verdict.length > 10, `${name}: the refusal says why`);
		}
	});
}

test('a refused secret is never repeated in the message', async () => {
	for (const [name, record] of [['password', {}], ['application_secret', { method: 'api' }], ['consumer_key', { method: 'api' }]]) {
		const validate = await validateOf(name, record);
		const verdict = validate('hunter2\tSecret');
		assert.equal(typeof verdict, 'string');
		assert.ok(!verdict.includes('hunter2') && !verdict.includes('Secret'), verdict);
	}
});

// Where an option is read: the global section, or a record that uses it.
const CONTEXT = {
	check_interval: { global: true },
	timeout: { global: true },
	device: { source: 'netlink' },
	check_url: { source: 'web' },
	script: { source: 'script' },
	ipv6_suffix: { family: 'ipv6', source: 'ubus' },
	prefix_interface: { family: 'ipv6', source: 'ubus' }
};
const RECORD = { hostname: 'home.example.com', username: 'example.com-router', password: 'change-me' };
const API_RECORD = { method: 'api', hostname: 'home.example.com', endpoint: 'ovh-eu', application_key: 'AK',
	application_secret: 'AS', consumer_key: 'CK' };

// The page asks for digits only where Rust's parser would also take a leading '+'.
const STRICTER_THAN_DYNHOST = [['check_interval', {}, '+600'], ['timeout', {}, '+5'], ['ttl', API_RECORD, '+60']];

test('the validators and dynhost agree on every value above', { skip: !dynhostBinary() && 'no dynhost binary: cargo build' }, async () => {
	for (const [name, record, good, bad] of ALL_CASES) {
		const validate = await validateOf(name, record);
		const { global: inGlobal, ...context } = CONTEXT[name] || {};
		for (const value of good.concat(bad)) {
			// An empty option is no option, in UCI as in LuCI, which deletes it.
			const options = Object.assign({}, inGlobal ? {} : record.method === 'api' ? API_RECORD : RECORD,
				context, record, { [name]: value });
			if (value === '')
				delete options[name];
			const refusal = inGlobal ? daemonRefusal(options, RECORD) : daemonRefusal({}, options);
			const pageTakes = validate(value) === true;
			assert.equal(refusal === null, pageTakes, `${name} ${JSON.stringify(value)}: dynhost said ${refusal}`);
			if (refusal !== null)
				// A value error names option 'x'; the UCI parser, which refuses most control
				// characters before any value is checked, names "x".
				assert.match(refusal, new RegExp(`option '${name}'|"${name}"`), `${name} ${JSON.stringify(value)} refused for ${name}`);
		}
	}
	for (const [name, record, value] of STRICTER_THAN_DYNHOST) {
		const inGlobal = CONTEXT[name] && CONTEXT[name].global;
		assert.equal(inGlobal ? daemonRefusal({ [name]: value }, RECORD) : daemonRefusal({}, Object.assign({}, record, { [name]: value })), null);
		assert.notEqual((await validateOf(name, record))(value), true);
	}
});

test('enabled reads every boolean word dynhost knows', async () => {
	const { view, luci, records, option } = await renderedForm();
	for (const word of ['1', 'on', 'true', 'yes', 'enabled'])
		assert.equal(view.flagValue(word), '1', word);
	for (const word of ['0', 'off', 'false', 'no', 'disabled'])
		assert.equal(view.flagValue(word), '0', word);
	assert.equal(view.flagValue(undefined), undefined, 'missing: the checkbox default, enabled');
	assert.equal(view.flagValue('maybe'), 'maybe', 'dynhost refuses it; the page does not guess');

	luci.uciData.dynhost = [{ '.name': 'home', '.type': 'record', enabled: 'yes' }];
	assert.equal(option(records, 'enabled').load('home'), '1', "'yes' shows ticked, and saving keeps it enabled");
	luci.uciData.dynhost[0].enabled = 'off';
	assert.equal(option(records, 'enabled').load('home'), '0');
});

test('two enabled records for one host name and family are refused, as dynhost does', async () => {
	const { view, luci, map, records, option } = await renderedForm();
	const others = [
		{ name: 'home4', hostname: 'home.example.com', family: 'ipv4', enabled: true },
		{ name: 'old', hostname: 'old.example.com', family: 'ipv4', enabled: false }
	];
	const candidate = (fields) => Object.assign({ name: 'new', hostname: 'HOME.example.com', family: 'ipv4', enabled: true }, fields);
	assert.equal(view.duplicateRecord(others, candidate({})), 'home4', 'names compare without case');
	assert.equal(view.duplicateRecord(others, candidate({ family: 'ipv6' })), null, 'A and AAAA are two records');
	assert.equal(view.duplicateRecord(others, candidate({ enabled: false })), null, 'a disabled record sends nothing');
	assert.equal(view.duplicateRecord(others, candidate({ hostname: 'old.example.com' })), null);
	assert.equal(view.duplicateRecord(others, candidate({ name: 'home4' })), null, 'a record is not its own duplicate');

	// The validator in the form: the other records from uci, this one from its widgets.
	luci.uciData.dynhost = [
		{ '.name': 'home4', '.type': 'record', hostname: 'home.example.com', family: 'ipv4' },
		{ '.name': 'home6', '.type': 'record', hostname: 'home.example.com', family: 'ipv6', enabled: '0' }
	];
	const hostname = option(records, 'hostname');
	map.formValues.new = { family: 'ipv4', enabled: '1' };
	assert.match(hostname.validate('new', 'home.example.com'), /home4/);
	map.formValues.new = { family: 'ipv6', enabled: '1' };
	assert.equal(hostname.validate('new', 'home.example.com'), true, 'home6 is disabled');
	map.formValues.new = { family: 'ipv4', enabled: '0' };
	assert.equal(hostname.validate('new', 'home.example.com'), true);
	map.formValues.home4 = { family: 'ipv4', enabled: '1' };
	assert.equal(hostname.validate('home4', 'home.example.com'), true, 'editing a record does not clash with itself');
});

test('every way a record becomes enabled or changes host or family is checked for duplicates', async () => {
	const { luci, map, records, option } = await renderedForm();
	luci.uciData.dynhost = [
		{ '.name': 'home', '.type': 'record', hostname: 'home.example.com', family: 'ipv4' },
		{ '.name': 'spare', '.type': 'record', hostname: 'HOME.example.com', enabled: 'off' },
		{ '.name': 'home6', '.type': 'record', hostname: 'home.example.com', family: 'ipv6' }
	];
	const enabled = option(records, 'enabled');
	const family = option(records, 'family');
	// The table's checkbox: its validator reads the state from the widget, not from its value.
	assert.equal(enabled.validate('spare', '1'), true, 'still unticked');
	map.formValues.spare = { enabled: '1' };
	assert.match(enabled.validate('spare', '1'), /Record home already updates/);
	map.formValues.home = { enabled: '0' };
	assert.equal(enabled.validate('spare', '1'), true, 'the other one unticked in the same form');
	map.formValues = {};
	// The family list: home6 turned into an A record clashes with home.
	assert.match(family.validate('home6', 'ipv4'), /Record home already updates/);
	assert.equal(family.validate('home6', 'ipv6'), true);
	// Before a save, every row's checkbox is checked again.
	luci.calls.validations.length = 0;
	await map.parse();
	assert.deepEqual(luci.calls.validations, [['home', 'enabled'], ['spare', 'enabled'], ['home6', 'enabled']]);
});

test('a save writes only what the owner changed: the file keeps its own words and leaves defaults unset', async () => {
	const { luci, records, option } = await renderedForm();
	luci.uciData.dynhost = [
		{ '.name': 'home', '.type': 'record', hostname: 'home.example.com', enabled: 'yes' },
		{ '.name': 'old', '.type': 'record', hostname: 'old.example.com', enabled: 'off', family: 'ipv6', source: 'script' }
	];
	const write = (name, section, value) => option(records, name).write(section, value);
	write('enabled', 'home', '1');
	write('enabled', 'old', '0');
	write('family', 'home', 'ipv4');
	write('source', 'home', 'ubus');
	write('family', 'old', 'ipv6');
	write('source', 'old', 'script');
	assert.deepEqual(luci.calls.writes, [], 'nothing changed');
	write('enabled', 'home', '0');
	write('enabled', 'old', '1');
	write('family', 'home', 'ipv6');
	write('source', 'old', 'web');
	assert.deepEqual(luci.calls.writes, [['home', 'enabled', '0'], ['old', 'enabled', '1'], ['home', 'family', 'ipv6'], ['old', 'source', 'web']]);
});

test('the Records table shows words for the family and the source, not codes', async () => {
	const { luci, records, option } = await renderedForm();
	luci.uciData.dynhost = [
		{ '.name': 'a', '.type': 'record' },
		{ '.name': 'b', '.type': 'record', family: 'ipv6', source: 'script' },
		{ '.name': 'c', '.type': 'record', family: 'ipv5', source: 'netlink' },
		{ '.name': 'd', '.type': 'record', source: 'web' },
		{ '.name': 'e', '.type': 'record', source: '<b>"x"</b>' }
	];
	const shown = (name, section) => option(records, name).textvalue(section);
	assert.deepEqual(['a', 'b', 'c', 'd'].map((section) => [shown('family', section), shown('source', section)]), [
		['IPv4', 'ubus (netifd)'],
		['IPv6', 'script'],
		['ipv5', 'netlink (kernel)'],
		['IPv4', 'web service']
	]);
	assert.equal(shown('source', 'e'), '&#60;b&#62;&#34;x&#34;&#60;/b&#62;', 'LuCI sets it as HTML: escaped');
});

test('changing the method or the host name checks the host name and the zone again', async () => {
	const { luci, map, records, option } = await renderedForm();
	luci.uciData.dynhost = [{ '.name': 'apex', '.type': 'record', method: 'api', hostname: '*.example.com' }];
	luci.calls.validations.length = 0;
	assert.equal(option(records, 'method').validate('apex', 'dynhost'), true);
	assert.deepEqual(luci.calls.validations, [['apex', 'hostname'], ['apex', 'zone']], 'the host name checks the zone');
	luci.calls.validations.length = 0;
	map.formValues.apex = { method: 'dynhost' };
	assert.match(option(records, 'hostname').validate('apex', '*.example.com'), /wildcard needs the OVHcloud API method/);
	assert.deepEqual(luci.calls.validations, [['apex', 'zone']]);
	// The duplicate check keys on host name and family, whatever the method.
	luci.uciData.dynhost.push({ '.name': 'other', '.type': 'record', hostname: '*.EXAMPLE.com' });
	map.formValues.apex = { method: 'api' };
	assert.match(option(records, 'hostname').validate('apex', '*.example.com'), /Record other already updates/);
});
