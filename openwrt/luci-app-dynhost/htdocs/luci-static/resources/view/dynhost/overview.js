'use strict';
'require view';
'require dom';
'require form';
'require fs';
'require poll';
'require ui';
'require uci';

// Every command the page runs. The ACL in root/usr/share/rpcd/acl.d grants exactly these
// command lines, so a change here needs the same change there.
const STATUS_COMMAND = ['/usr/bin/dynhost', ['status', '-j']];
const UPDATE_COMMAND = ['/etc/init.d/dynhost', ['update']];
const LOG_COMMAND = ['/sbin/logread', ['-e', 'dynhost']];

const POLL_SECONDS = 5;
const LOG_LINES = 50;

// Rust's char::is_control (Unicode category Cc), which src/config.rs applies to usernames and
// passwords, and to URLs.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Rust's char::is_whitespace, which src/config.rs applies to URLs and device names. JavaScript's
// \s differs from it (it has U+FEFF and lacks U+0085).
const WHITESPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

// The words of the shell's config_get_bool, as src/config.rs (Options::boolean) reads them.
const TRUE_WORDS = ['1', 'on', 'true', 'yes', 'enabled'];
const FALSE_WORDS = ['0', 'off', 'false', 'no', 'disabled'];

// A validator for an option dynhost cannot do without: an empty value is refused before
// `check` sees it.
function requiredAnd(check) {
	return (value) => (value == null || value === '')
		? _('Required: dynhost refuses a record without it') : check(value);
}

// config.rs is_fqdn: at least two labels, each 1 to 63 letters, digits or inner hyphens, and 253
// characters in all (no trailing dot: it would be an empty label).
function isFqdn(value) {
	const isLabel = (label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label);
	const labels = value.split('.');
	return value.length <= 253 && labels.length >= 2 && labels.every(isLabel);
}

// config.rs hostname(): with method api, '*.' and a full host name is a wildcard record.
// `record` (here and for the zone): the record's method and host name as the form shows them.
function validateHostname(value, record) {
	if (value == null || value === '')
		return _('Required: dynhost refuses a record without it');
	const api = (record || {}).method === 'api';
	if (isFqdn(api && value.startsWith('*.') ? value.slice(2) : value))
		return true;
	return api
		? _('Expecting a full host name such as home.example.com, or *. and such a name: two or more labels of letters, digits and inner hyphens, up to 63 characters each and 253 in all')
		: _('Expecting a full host name such as home.example.com: two or more labels of letters, digits and inner hyphens, up to 63 characters each and 253 in all (a wildcard needs the OVHcloud API method)');
}

// config.rs zone(): optional; a domain name that is the host name, or the end of it after a '.'
// (of a wildcard, the part after '*.'). Both compare in lower case.
function validateZone(value, record) {
	if (value == null || value === '')
		return true;
	const zone = value.toLowerCase();
	if (!isFqdn(zone))
		return _('Expecting a domain name such as example.com');
	const hostname = String((record || {}).hostname || '').toLowerCase();
	const name = hostname.startsWith('*.') ? hostname.slice(2) : hostname;
	if (name !== zone && !name.endsWith('.' + zone))
		return _('Expecting the zone that holds the host name: the host name itself, or its end after a "."');
	return true;
}

// config.rs api_key(): the keys travel in HTTP headers: printable ASCII without spaces. The
// message never repeats the value (two of the keys are secrets).
const validateApiKey = requiredAnd((value) => /^[\x21-\x7e]+$/.test(value) ? true
	: _('Expecting printable ASCII characters without spaces, as OVHcloud gives the keys'));

// config.rs username(): HTTP Basic authentication cannot carry a ':' in the user name.
const validateUsername = requiredAnd((value) => {
	if (value.includes(':'))
		return _('A username cannot contain ":" (HTTP Basic authentication cannot carry it)');
	if (CONTROL.test(value))
		return _('A username cannot contain control characters');
	return true;
});

// config.rs password(): anything printable. The message never repeats the value.
const validatePassword = requiredAnd((value) =>
	CONTROL.test(value) ? _('A password cannot contain control characters') : true);

// config.rs Options::seconds: a whole number in an inclusive range; empty means the default.
// Rust's integer parser would also take a leading '+', which the init script's range() check
// may not: digits only keeps both happy.
function secondsBetween(min, max) {
	return (value) => {
		if (value == null || value === '')
			return true;
		if (!/^[0-9]+$/.test(value) || +value < min || +value > max)
			return _('Expecting a whole number of seconds from %d to %d').format(min, max);
		return true;
	};
}

// uci::is_name, which config.rs interface() applies: an OpenWrt logical interface name.
function validateInterface(value) {
	if (value == null || value === '')
		return true;
	return /^[A-Za-z0-9_]+$/.test(value) ? true
		: _('Expecting a logical interface name (letters, digits and _), such as wan or wan_6');
}

// config.rs is_device_name, the kernel's dev_valid_name: 1 to 15 bytes, not '.' or '..', no
// '/', ':' or white space.
function validateDevice(value) {
	if (value == null || value === '')
		return true;
	const bytes = new TextEncoder().encode(value).length;
	if (bytes > 15 || value === '.' || value === '..' || /[\/:]/.test(value) || WHITESPACE.test(value))
		return _('Expecting a network device name: 1 to 15 characters, no "/", ":" or white space');
	return true;
}

// config.rs check_https_url: "https://" (lower case), no white space or control character
// anywhere, a host with an optional numeric port and no user part; then what `tail` allows (its
// UrlTail): for the server ('none') at most a '/', for an API base URL ('path') a path, for a
// check_url ('query') a path and a query; never a fragment. Empty means the default (the
// OVHcloud server, or the web source's echo service).
function httpsUrlValidator(tail) {
	return function(value) {
		if (value == null || value === '')
			return true;
		const noHost = _('Expecting an https:// URL with a host, such as https://dns.eu.ovhapis.com: dynhost never sends a password or trusts an address over plain HTTP');
		if (!value.startsWith('https://') || WHITESPACE.test(value) || CONTROL.test(value))
			return noHost;
		const rest = value.slice('https://'.length);
		const end = rest.search(/[\/?#]/);
		const authority = end < 0 ? rest : rest.slice(0, end);
		const after = end < 0 ? '' : rest.slice(end);
		if (authority.includes('@'))
			return _('Expecting no user or password before "@": dynhost sends the record\'s own credentials');
		let host = authority;
		const colon = authority.lastIndexOf(':');
		// An IPv6 literal's colons are inside its brackets.
		if (colon >= 0 && !authority.slice(colon + 1).includes(']')) {
			if (!/^[0-9]+$/.test(authority.slice(colon + 1)))
				return _('Expecting a port number after the host\'s ":"');
			host = authority.slice(0, colon);
		}
		if (host === '')
			return noHost;
		if (tail === 'none' && after !== '' && after !== '/')
			return _('Expecting only https://host or https://host:port, with no path, query or fragment: dynhost adds the update path itself');
		if (tail === 'path' && /[?#]/.test(after))
			return _('Expecting a base URL without a query (?...) or fragment (#...): dynhost adds the API\'s paths to it');
		if (after.includes('#'))
			return _('Expecting no fragment (#...): it is never sent to the server');
		return true;
	};
}

// config.rs API_ENDPOINTS, by the names OVHcloud's client libraries give them.
const API_ENDPOINTS = ['ovh-eu', 'ovh-ca', 'ovh-us'];

// config.rs api_endpoint(): required; a name of API_ENDPOINTS, or an https:// base URL.
const validateEndpoint = requiredAnd((value) => {
	if (API_ENDPOINTS.includes(value))
		return true;
	if (!value.startsWith('https://'))
		return _('Expecting ovh-eu, ovh-ca, ovh-us, or an https:// base URL such as https://eu.api.ovh.com/1.0');
	return httpsUrlValidator('path')(value);
});

// config.rs command(): the script option is split on ASCII white space (Rust's
// split_ascii_whitespace) and must name a command.
function validateScript(value) {
	if (value == null || !/[^ \t\n\f\r]/.test(value))
		return _('Required for the script source: the command to run, with its arguments');
	return true;
}

// Rust's Ipv6Addr parser, which config.rs ipv6_suffix() uses: groups of 1 to 4 hex digits, at
// most one "::" standing for one or more zero groups, and an optional dotted IPv4 address in
// place of the last two groups (decimal octets without leading zeros). Returns the 8 groups, or
// null when Rust would refuse the text.
function parseIpv6(text) {
	let position = 0;
	const readHexGroup = () => {
		const match = /^[0-9A-Fa-f]{1,4}/.exec(text.slice(position));
		if (!match)
			return null;
		position += match[0].length;
		return parseInt(match[0], 16);
	};
	const readIpv4 = () => {
		const match = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})/.exec(text.slice(position));
		if (!match)
			return null;
		const octets = match.slice(1);
		if (octets.some((octet) => (octet.length > 1 && octet[0] === '0') || +octet > 255))
			return null;
		position += match[0].length;
		const [a, b, c, d] = octets.map(Number);
		return [(a << 8) | b, (c << 8) | d];
	};
	// Reads up to `limit` colon-separated groups; an IPv4 tail needs room for two groups.
	const readGroups = (limit) => {
		const groups = [];
		while (groups.length < limit) {
			const start = position;
			if (groups.length > 0) {
				if (text[position] !== ':')
					break;
				position++;
			}
			if (groups.length < limit - 1) {
				const ipv4 = readIpv4();
				if (ipv4)
					return { groups: groups.concat(ipv4), ipv4: true };
			}
			const group = readHexGroup();
			if (group == null) {
				position = start;
				break;
			}
			groups.push(group);
		}
		return { groups: groups, ipv4: false };
	};

	const head = readGroups(8);
	let groups = head.groups;
	if (groups.length < 8) {
		if (head.ipv4 || text.slice(position, position + 2) !== '::')
			return null;
		position += 2;
		const tail = readGroups(7 - groups.length).groups;
		groups = groups.concat(new Array(8 - groups.length - tail.length).fill(0), tail);
	}
	return position === text.length ? groups : null;
}

// config.rs ipv6_suffix(): an interface identifier, the last 64 bits of an address: the upper
// 64 bits must be zero, and all zeros is the prefix's router anycast address.
function validateIpv6Suffix(value) {
	if (value == null || value === '')
		return true;
	const groups = parseIpv6(value);
	if (!groups)
		return _('Expecting an IPv6 interface identifier such as ::1:2:3:4 (no prefix length)');
	if (groups.slice(0, 4).some((group) => group !== 0))
		return _('Only the last 64 bits may be set, as in ::1:2:3:4: the prefix comes from the router');
	if (groups.every((group) => group === 0))
		return _('All zeros is the router anycast address of the prefix: choose the identifier of a host');
	return true;
}

// Normalises the daemon's boolean words to what a LuCI checkbox shows. Anything else is left as
// it is: the daemon refuses it, and the checkbox shows it unticked.
function flagValue(text) {
	if (TRUE_WORDS.includes(text))
		return '1';
	if (FALSE_WORDS.includes(text))
		return '0';
	return text;
}

// config.rs check_unique_hostnames: two enabled records for one host name and family would
// overwrite each other. Returns the other record's section name, or null.
function duplicateRecord(records, candidate) {
	if (!candidate.enabled)
		return null;
	const hostname = String(candidate.hostname).toLowerCase();
	const other = records.find((record) => record.name !== candidate.name && record.enabled &&
		String(record.hostname).toLowerCase() === hostname && record.family === candidate.family);
	return other ? other.name : null;
}

// The value a record's option has in the form now: its widget's, in the first of `sections`
// that shows one (the editor for the record it edits, then the table's checkbox), else the
// config's.
function shownValue(sections, section_id, name) {
	for (const section of sections) {
		const option = section.children.find((child) => child.option === name);
		const widget = option && option.getUIElement(section_id);
		if (widget)
			return widget.getValue();
	}
	return uci.get('dynhost', section_id, name);
}

// Every record as the form shows it now; `section_id`'s `name` option is `value`, the one being
// checked.
function recordsShown(sections, section_id, name, value) {
	const ids = uci.sections('dynhost', 'record').map((section) => section['.name']);
	if (!ids.includes(section_id))
		ids.push(section_id);
	return ids.map((id) => {
		const read = (option) => (id === section_id && option === name) ? value : shownValue(sections, id, option);
		return {
			name: id,
			hostname: read('hostname') || '',
			family: read('family') || 'ipv4',
			enabled: flagValue(read('enabled')) !== '0'
		};
	});
}

// Short words for the Records table, where the editor's long choices do not fit.
const METHOD_WORDS = { dynhost: 'DynHost', api: _('OVHcloud API') };
const FAMILY_WORDS = { ipv4: 'IPv4', ipv6: 'IPv6' };
const SOURCE_WORDS = {
	ubus: _('ubus (netifd)'),
	netlink: _('netlink (kernel)'),
	web: _('web service'),
	script: _('script')
};

// What the table shows for `value` (the option's default when unset): its word, or the value
// itself when dynhost's words do not know it. LuCI puts it in the cell as HTML: escaped.
function tableWord(words, value, fallback) {
	const shown = value == null || value === '' ? fallback : value;
	return '%h'.format(words[shown] || shown);
}

// What the last result means and what the owner can do about it. The refusals are those of
// Refusal in src/error.rs: each blocks the record until its settings change, except abuse,
// which ends by itself (decision.rs ABUSE_LOCKOUT_SECS, a day).
const RESULTS = {
	good: { state: 'ok', text: _('updated: the record now points at this address') },
	nochg: { state: 'ok', text: _('up to date: the record already pointed at this address') },
	badauth: { state: 'refused', text: _('wrong username or password — fix and save to retry') },
	nohost: { state: 'refused', text: _('this host name is not a DynHost record of the zone, or the username may not update it — fix and save to retry') },
	notfqdn: { state: 'refused', text: _('the server says the host name is not a full domain name — fix and save to retry') },
	badsys: { state: 'refused', text: _('the server did not understand the request — a dynhost bug, please report it; saving a changed record retries') },
	badagent: { state: 'refused', text: _('the server refuses this client — check for a dynhost update; saving a changed record retries') },
	abuse: { state: 'refused', text: _('blocked by OVHcloud for too many updates — dynhost waits a day, then tries again') },
	denied: { state: 'refused', text: _('the OVHcloud API refused the keys or the call: check the application key and secret, the consumer key (validated, with these access rules) and the endpoint — fix and save to retry') },
	badrequest: { state: 'refused', text: _('the OVHcloud API refused the request as written — fix and save to retry') },
	nozone: { state: 'refused', text: _('the account has no zone that holds this host name: check the zone and the host name — fix and save to retry') },
	ambiguous: { state: 'refused', text: _('the zone has several records of this name and type: delete all but one in the zone, then save to retry') }
};

function describeResult(record) {
	if (!record.enabled)
		return { state: 'disabled', text: _('disabled: dynhost leaves this record alone') };
	if (record.last_result == null)
		return { state: 'pending', text: _('nothing sent yet') };
	if (record.last_result === 'failed')
		return {
			state: 'error',
			text: record.last_message
				? _('failed, dynhost retries by itself: %s').format(record.last_message)
				: _('failed, dynhost retries by itself')
		};
	return RESULTS[record.last_result]
		|| { state: 'error', text: _('unknown result "%s" (is this page older than dynhost?)').format(record.last_result) };
}

// How far `seconds` (unix time) is from `now`, in words.
function relativeTime(seconds, now) {
	const distance = Math.abs(now - seconds);
	const amount = distance < 60 ? _('%d s').format(distance)
		: distance < 3600 ? _('%d min').format(Math.floor(distance / 60))
		: distance < 86400 ? _('%d h').format(Math.floor(distance / 3600))
		: _('%d days').format(Math.floor(distance / 86400));
	return seconds > now ? _('in %s').format(amount) : _('%s ago').format(amount);
}

function describeNext(record, now) {
	if (!record.enabled)
		return _('nothing: the record is disabled');
	const waitingUntil = (record.next_attempt != null && record.next_attempt > now) ? record.next_attempt : null;
	switch (record.next_action) {
	case 'send':
		return _('send at the next check');
	case 'watch':
		return _('watching: sends when the address changes');
	case 'blocked':
		return _('nothing until you change and save this record');
	case 'retry':
		return waitingUntil
			? _('retry %s, or at once if the address changes').format(relativeTime(waitingUntil, now))
			: _('retry at the next check');
	case 'wait':
		return waitingUntil
			? _('wait for the lock-out to end, %s').format(relativeTime(waitingUntil, now))
			: _('wait for the lock-out to end');
	default:
		return record.next_action_why || String(record.next_action);
	}
}

// LuCI's E() and dom.content() set a lone string as HTML, and an array's strings as text: every
// text from outside (dynhost's messages, the server's words in them, the system log, which any
// program may write to) is passed in an array.

// One table row per record of `dynhost status -j`; `now` is unix seconds.
function statusRows(records, now) {
	return records.map((record) => {
		const result = describeResult(record);
		return {
			name: record.name,
			hostname: record.hostname,
			method: METHOD_WORDS[record.method] || String(record.method || METHOD_WORDS.dynhost),
			family: record.family === 'ipv6' ? 'IPv6' : 'IPv4',
			address: record.published || _('none yet'),
			state: result.state,
			result: result.text,
			// api: a changed record is published when its zone is refreshed.
			pending: record.refresh_pending ? _('zone refresh pending: the change is not published yet; dynhost refreshes the zone at the next try') : '',
			when: record.last_attempt != null ? relativeTime(record.last_attempt, now) : _('never'),
			next: describeNext(record, now),
			why: record.next_action_why || ''
		};
	});
}

// The outcome of running `dynhost status -j`: { records } or { error } in words.
function readStatus(exec) {
	if (exec.code !== 0) {
		const said = String(exec.stderr || '').trim();
		return { error: said || _('dynhost status failed with exit status %d').format(exec.code) };
	}
	let report;
	try {
		report = JSON.parse(exec.stdout);
	}
	catch (e) {
		return { error: _('dynhost status printed something that is not JSON') };
	}
	if (report == null || !Array.isArray(report.records))
		return { error: _('dynhost status printed JSON without a list of records') };
	return { records: report.records };
}

// The last `count` lines of the log, with every configured secret masked. dynhost never logs a
// secret, but the filter matches any line that mentions dynhost, whoever wrote it.
function logTail(exec, secrets, count) {
	if (exec.code !== 0)
		return _('The system log could not be read: %s').format(String(exec.stderr || '').trim() || exec.code);
	secrets = secrets.filter((secret) => secret);
	const lines = String(exec.stdout || '').split('\n').filter((line) => line !== '').slice(-count)
		.map((line) => secrets.reduce((text, secret) => text.split(secret).join('***'), line));
	return lines.length ? lines.join('\n') : _('No dynhost lines in the system log yet.');
}

// A rejected fs.exec (no such file, or the ACL refused it) reads like a failed command.
function run(command) {
	return fs.exec(command[0], command[1]).catch((error) => ({
		code: -1, stdout: '', stderr: String(error && error.message || error)
	}));
}

// The options that hold secrets: the DynHost password and the API's secret keys.
const SECRET_OPTIONS = ['password', 'application_secret', 'consumer_key'];

function configuredSecrets() {
	return uci.sections('dynhost', 'record').flatMap((section) => SECRET_OPTIONS.map((name) => section[name]));
}

// How a result reads in the table: in normal case and size (badges set sentences in small
// capitals), coloured by what it means. Themes other than bootstrap lack its colour variables,
// hence the fallbacks.
const STATE_STYLES = {
	ok: 'color:var(--success-color-medium, #00794a)',
	pending: '',
	error: 'color:var(--error-color-medium, #c00000)',
	refused: 'color:var(--error-color-medium, #c00000); font-weight:bold',
	disabled: 'opacity:.7'
};

function renderStatus(status, now) {
	if (status.error)
		return E('p', { 'class': 'alert-message warning' }, [_('Cannot read the status: %s').format(status.error)]);
	if (status.records.length === 0)
		return E('p', {}, _('No records yet: add one below, then save.'));
	const cell = (title, content) => E('td', { 'class': 'td', 'data-title': title }, [content]);
	return E('table', { 'class': 'table' }, [
		E('tr', { 'class': 'tr table-titles' }, [
			_('Host name'), _('Family'), _('Published address'), _('Last result'), _('When'), _('Next')
		].map((title) => E('th', { 'class': 'th' }, title)))
	].concat(statusRows(status.records, now).map((row) => E('tr', { 'class': 'tr', 'data-record': row.name }, [
		cell(_('Host name'), E([], [row.hostname, E('br'), E('small', {}, [row.name, ' · ', row.method])])),
		cell(_('Family'), row.family),
		cell(_('Published address'), row.address),
		cell(_('Last result'), E([], [
			E('span', { 'class': 'dynhost-result', 'data-state': row.state, 'style': STATE_STYLES[row.state] }, [row.result]),
			row.pending ? E('div', { 'class': 'dynhost-pending' }, [E('small', {}, [row.pending])]) : ''
		])),
		cell(_('When'), row.when),
		cell(_('Next'), E('span', { 'title': row.why }, [row.next]))
	]))));
}

// LuCI's themes set validation messages on one line (bootstrap: white-space: pre), so that a
// long one runs out of the editor and the screen: these wrap.
const TOOLTIP_STYLE = '.cbi-tooltip.error { white-space: pre-wrap; max-width: min(30em, 60vw); }';

const PROBLEM_STYLE = 'color:var(--error-color-medium, #c00000); white-space:normal';

// Puts `problem` (or nothing) by the Enabled checkbox of `section_id` in the form of `option`:
// in the table, under the row's checkbox; in the editor (LuCI 23.05 and master), below its
// fields, above its buttons. One place per record, whichever field found the problem: each
// check sees the whole record, so the last one is right.
function showProblem(option, section_id, problem) {
	const field = option.map.findElement('data-field', 'cbid.dynhost.%s.enabled'.format(section_id));
	const cell = field && field.parentNode;
	if (!cell)
		return;
	let note = cell.querySelector('.dynhost-problem');
	if (!problem) {
		if (note)
			note.remove();
		return;
	}
	if (!note) {
		note = E('div', { 'class': 'dynhost-problem', 'style': PROBLEM_STYLE });
		cell.appendChild(note);
	}
	note.textContent = problem;
}

// LuCI writes what a widget shows, even unchanged: a flag's normalised word ('yes' becomes '1'),
// a choice's default where the option is unset. Only what the owner changed is written, so
// that the file keeps its own words.
function writeOnlyChanges(option) {
	const write = option.write;
	option.write = function(section_id, value) {
		const shown = this.load(section_id) ?? this.default;
		if (String(value) !== String(shown))
			return write.call(this, section_id, value);
	};
}

// The checks of values, by option name: each takes the value and the record's method and host
// name as the form shows them (the duplicate host name check needs the whole form).
const VALIDATORS = {
	hostname: validateHostname,
	zone: validateZone,
	endpoint: validateEndpoint,
	application_key: validateApiKey,
	application_secret: validateApiKey,
	consumer_key: validateApiKey,
	ttl: secondsBetween(60, 86400),
	username: validateUsername,
	password: validatePassword,
	check_interval: secondsBetween(30, 604800),
	timeout: secondsBetween(1, 3600),
	interface: validateInterface,
	device: validateDevice,
	check_url: httpsUrlValidator('query'),
	server: httpsUrlValidator('none'),
	script: validateScript,
	ipv6_suffix: validateIpv6Suffix,
	prefix_interface: validateInterface
};

// A LuCI validate function from a check of the value alone.
function byValue(validator) {
	return (section_id, value) => validator(value);
}

// The options of `section` named in `names`, checked again: the method decides what the host
// name may be, and the host name what the zone may be.
function revalidate(section, section_id, names) {
	section.children.filter((child) => names.includes(child.option))
		.forEach((child) => child.triggerValidation(section_id));
}

return view.extend({
	validators: VALIDATORS,
	flagValue: flagValue,
	duplicateRecord: duplicateRecord,
	describeResult: describeResult,
	statusRows: statusRows,
	readStatus: readStatus,
	logTail: logTail,

	load: function() {
		return Promise.all([run(STATUS_COMMAND), run(LOG_COMMAND), uci.load('dynhost')]);
	},

	refresh: function(statusBox, logBox) {
		return Promise.all([run(STATUS_COMMAND), run(LOG_COMMAND)]).then((results) => {
			dom.content(statusBox, renderStatus(readStatus(results[0]), Math.floor(Date.now() / 1000)));
			dom.content(logBox, [logTail(results[1], configuredSecrets(), LOG_LINES)]);
		});
	},

	handleUpdateNow: function() {
		return run(UPDATE_COMMAND).then((result) => {
			if (result.code === 0)
				ui.addNotification(null, E('p', {}, _('dynhost is checking every record now; the table shows the results within a few seconds.')), 'info');
			else
				ui.addNotification(null, E('p', {}, [_('Update failed: %s').format(String(result.stderr || '').trim() || result.code)]), 'warning');
		});
	},

	render: function(data) {
		const statusBox = E('div', { 'id': 'dynhost-status' },
			renderStatus(readStatus(data[0]), Math.floor(Date.now() / 1000)));
		const logBox = E('pre', { 'id': 'dynhost-log', 'style': 'max-height:24em; overflow:auto; white-space:pre-wrap' },
			[logTail(data[1], configuredSecrets(), LOG_LINES)]);

		const m = new form.Map('dynhost', _('DynHost'),
			_('Keeps OVHcloud DNS records pointing at this router\'s public address, through DynHost or the OVHcloud API. Saving applies the settings: the running dynhost reads them again.'));
		let s, o;

		s = m.section(form.NamedSection, 'global', 'dynhost', _('Global settings'));

		o = s.option(form.Value, 'check_interval', _('Check interval'),
			_('Seconds between two periodic checks (30 to 604800). Address changes on the router are seen at once.'));
		o.placeholder = '600';
		o.validate = byValue(VALIDATORS.check_interval);

		o = s.option(form.Value, 'timeout', _('Timeout'),
			_('Seconds for one exchange with the server, or one run of a script source (1 to 3600).'));
		o.placeholder = '30';
		o.validate = byValue(VALIDATORS.timeout);

		o = s.option(form.Value, 'cacert', _('CA certificates'),
			_('The certificate authorities trusted for HTTPS. dynhost refuses to start when an enabled record\'s file cannot be read.'));
		o.placeholder = '/etc/ssl/certs/ca-certificates.crt';

		s = m.section(form.GridSection, 'record', _('Records'),
			_('One record per host name and family: a name with both an IPv4 and an IPv6 address needs two records.'));
		s.addremove = true;
		s.anonymous = false;
		s.nodescriptions = true;

		const grid = s;
		// Where a record's other fields are read from: the editor for the record it edits, then
		// the table.
		const sectionsOf = (option) => option.section === grid ? [grid] : [option.section, grid];
		// The record's method and host name as the form shows them, for the checks that depend
		// on them.
		const shownRecord = (option, section_id) => ({
			method: shownValue(sectionsOf(option), section_id, 'method') || 'dynhost',
			hostname: shownValue(sectionsOf(option), section_id, 'hostname') || ''
		});
		// The check of a value that depends on the record's method or host name.
		const byRecord = (validator) => function(section_id, value) {
			return validator(value, shownRecord(this, section_id));
		};
		// The duplicate check for `option` of `section_id` (whose value is `value`, or, for the
		// checkbox, its widget's state): null, or the words for it. The editor checks its own
		// fields against the table. A checkbox or a list shows no message of its own: the
		// record's row, or its editor, says what is wrong.
		const duplicateProblem = (option, section_id, name, value) => {
			const records = recordsShown(sectionsOf(option), section_id, name, value);
			const other = duplicateRecord(records, records.find((record) => record.name === section_id));
			const problem = other
				? _('Record %s already updates this host name for this family: dynhost would refuse both. Disable one, or change its host name or family.').format(other)
				: null;
			showProblem(option, section_id, problem);
			return problem;
		};

		o = s.option(form.Flag, 'enabled', _('Enabled'));
		o.default = '1';
		o.rmempty = false;
		o.editable = true;
		o.load = (section_id) => flagValue(uci.get('dynhost', section_id, 'enabled'));
		writeOnlyChanges(o);
		// A checkbox's validator gets the input's fixed value, not its state: the state is read
		// from the widget.
		o.validate = function(section_id) {
			return duplicateProblem(this, section_id, null, null) || true;
		};
		const enabledOption = o;

		// A choice among dynhost's words, the first the default: the table shows its short word
		// from `words`, and a save writes it only when changed.
		const choiceOption = (name, title, words, choices, description) => {
			const option = s.option(form.ListValue, name, title, description);
			choices.forEach(([key, label]) => option.value(key, label));
			option.default = choices[0][0];
			option.textvalue = function(section_id) {
				return tableWord(words, this.cfgvalue(section_id), this.default);
			};
			writeOnlyChanges(option);
			return option;
		};

		o = choiceOption('method', _('Method'), METHOD_WORDS, [
			['dynhost', _('DynHost')],
			['api', _('OVHcloud API')]
		], _('DynHost: a DynHost record made in the OVHcloud control panel, and its login. OVHcloud API: any A or AAAA record of a zone the account owns (the apex, a wildcard, an existing record), with API keys from dynhost api-credential.'));
		o.validate = function(section_id) {
			revalidate(this.section, section_id, ['hostname']);
			return true;
		};

		o = s.option(form.Value, 'hostname', _('Host name'),
			_('The record, such as home.example.com. With the OVHcloud API also the zone itself (example.com) or a wildcard (*.example.com).'));
		o.rmempty = false;
		o.validate = function(section_id, value) {
			const verdict = validateHostname(value, shownRecord(this, section_id));
			revalidate(this.section, section_id, ['zone']);
			return verdict !== true ? verdict : (duplicateProblem(this, section_id, 'hostname', value) || true);
		};

		o = choiceOption('family', _('Family'), FAMILY_WORDS, [
			['ipv4', _('IPv4 (A record)')],
			['ipv6', _('IPv6 (AAAA record)')]
		]);
		o.validate = function(section_id, value) {
			return duplicateProblem(this, section_id, 'family', value) || true;
		};

		o = s.option(form.Value, 'username', _('Username'), _('The DynHost login, such as example.com-router.'));
		o.depends('method', 'dynhost');
		o.rmempty = false;
		o.modalonly = true;
		o.validate = byValue(VALIDATORS.username);

		o = s.option(form.Value, 'password', _('Password'));
		o.depends('method', 'dynhost');
		o.password = true;
		o.rmempty = false;
		o.modalonly = true;
		o.validate = byValue(VALIDATORS.password);

		// The OVHcloud API's options (config.rs API_OPTIONS).
		const apiOption = (name, title, description) => {
			const option = s.option(form.Value, name, title, description);
			option.depends('method', 'api');
			option.modalonly = true;
			option.validate = byRecord(VALIDATORS[name]);
			return option;
		};
		o = apiOption('zone', _('Zone'),
			_('The domain whose zone holds the record, such as example.com. Empty: the longest of the account\'s zones that holds the host name.'));
		o.placeholder = _('found by dynhost');
		o = apiOption('endpoint', _('API endpoint'),
			_('ovh-eu, ovh-ca or ovh-us: the OVHcloud API of the account\'s region; or an https:// base URL.'));
		o.value('ovh-eu', _('ovh-eu: OVHcloud Europe'));
		o.value('ovh-ca', _('ovh-ca: OVHcloud Canada'));
		o.value('ovh-us', _('ovh-us: OVHcloud US'));
		o.rmempty = false;
		o = apiOption('application_key', _('Application key'), _('The key of the application created on the OVHcloud API.'));
		o.rmempty = false;
		for (const [name, title, description] of [
			['application_secret', _('Application secret'), _('The secret of that application.')],
			['consumer_key', _('Consumer key'), _('The key that dynhost api-credential obtained, once validated.')]
		]) {
			o = apiOption(name, title, description);
			o.password = true;
			o.rmempty = false;
		}
		o = apiOption('ttl', _('TTL'), _('Seconds the record may be cached (60 to 86400). Empty: the zone\'s default.'));
		o.placeholder = _('zone default');

		o = s.option(form.Value, 'interface', _('Interface'),
			_('The logical interface whose address is published. Empty: wan for IPv4, wan6 for IPv6. With PPPoE and automatic IPv6, IPv6 is on wan_6.'));
		o.placeholder = 'wan / wan6';
		o.validate = byValue(VALIDATORS.interface);

		choiceOption('source', _('Address source'), SOURCE_WORDS, [
			['ubus', _('netifd (ubus): the interface\'s address')],
			['netlink', _('kernel (netlink): the address of a device')],
			['web', _('web service: the address seen from outside, behind another NAT')],
			['script', _('script: a command that prints the address')]
		]);

		o = s.option(form.Value, 'device', _('Device'),
			_('The kernel device to read the address from. Empty: the interface\'s own device.'));
		o.depends('source', 'netlink');
		o.modalonly = true;
		o.validate = byValue(VALIDATORS.device);

		o = s.option(form.Value, 'check_url', _('Check URL'),
			_('An https:// service that answers with the address it sees. Empty: api4.ipify.org or api6.ipify.org.'));
		o.depends('source', 'web');
		o.modalonly = true;
		o.validate = byValue(VALIDATORS.check_url);

		o = s.option(form.Value, 'script', _('Script'),
			_('The command and its arguments, split on spaces and run without a shell; it prints the address on its first line.'));
		o.depends('source', 'script');
		o.rmempty = false;
		o.modalonly = true;
		o.validate = byValue(VALIDATORS.script);

		// Read by ipv6 records of the sources that know netifd's delegated prefixes.
		const delegatedPrefixOption = (name, title, description, placeholder) => {
			const option = s.option(form.Value, name, title, description);
			option.depends({ family: 'ipv6', source: 'ubus' });
			option.depends({ family: 'ipv6', source: 'netlink' });
			option.placeholder = placeholder;
			option.modalonly = true;
			option.validate = byValue(VALIDATORS[name]);
			return option;
		};
		delegatedPrefixOption('ipv6_suffix', _('IPv6 host identifier'),
			_('Publish a LAN host instead of the router: its interface identifier, joined to the current delegated prefix.'),
			'::1:2:3:4');
		delegatedPrefixOption('prefix_interface', _('LAN interface'),
			_('The LAN interface whose share of the delegated prefix holds the host (with the IPv6 host identifier) or, when the IPv6 interface has only a prefix, the router\'s address. Empty: lan.'),
			'lan');

		o = s.option(form.Value, 'server', _('Server'), _('The DynHost server, https only.'));
		o.depends('method', 'dynhost');
		o.placeholder = 'https://dns.eu.ovhapis.com';
		o.modalonly = true;
		o.validate = byValue(VALIDATORS.server);

		o = s.option(form.Value, 'cacert', _('CA certificates'), _('Empty: the global setting.'));
		o.modalonly = true;

		// Before a save, every row's checkbox is checked again: a change in one row can make
		// or end a duplicate in another.
		const parse = m.parse;
		m.parse = function() {
			grid.cfgsections().forEach((section_id) => enabledOption.triggerValidation(section_id));
			return parse.apply(this, arguments);
		};

		poll.add(() => this.refresh(statusBox, logBox), POLL_SECONDS);

		// The status and the log stay outside the map's element: saving re-renders the map.
		return m.render().then((formNode) => E([], [
			E('style', {}, TOOLTIP_STYLE),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, _('Status')),
				statusBox,
				E('div', { 'class': 'right' }, E('button', {
					'class': 'cbi-button cbi-button-action',
					'click': ui.createHandlerFn(this, 'handleUpdateNow')
				}, _('Update now')))
			]),
			formNode,
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, _('Log')),
				logBox
			])
		]));
	}
});
