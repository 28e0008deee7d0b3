'use strict';
// The page in real LuCI: luci-base's JavaScript and the bootstrap theme from upstream LuCI
// (../shared/luci-upstream/{master,openwrt-23.05}, read where they are: DYNHOST_LUCI_UPSTREAM
// names another folder), in Debian's chromium driven by playwright-core (from npm: NODE_PATH or
// DYNHOST_PLAYWRIGHT names its node_modules). A small local server stands in for the router: it
// serves the page as LuCI's templates lay it out, answers /ubus/ as rpcd would (uci get / add /
// set / delete staged per session, file.exec of the page's three commands) and commits the staged
// changes on /cgi-bin/luci/admin/uci/apply_rollback into a config file, on which
// `dynhost status -j` (the real binary) runs: for the status table, and for the test's verdict.
// DYNHOST_LUCI_SCREENSHOTS names a folder for screenshots of each step.
//
// Without chromium, playwright-core, the LuCI files or the dynhost binary it skips;
// DYNHOST_REQUIRE_TOOLS makes that a failure.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const { dynhostBinary, skipReason, uciSection } = require('../real-dynhost.js');

const REPOSITORY = path.resolve(__dirname, '..', '..', '..');
const APP = path.join(REPOSITORY, 'openwrt', 'luci-app-dynhost', 'htdocs', 'luci-static', 'resources');
const UPSTREAM = process.env.DYNHOST_LUCI_UPSTREAM || path.resolve(REPOSITORY, '..', 'shared', 'luci-upstream');
const CHROMIUM = process.env.DYNHOST_CHROMIUM || '/usr/bin/chromium';
const VERSIONS = ['master', 'openwrt-23.05'];
const SCREENSHOTS = process.env.DYNHOST_LUCI_SCREENSHOTS;

function loadPlaywright() {
	const places = [process.env.DYNHOST_PLAYWRIGHT, path.join(REPOSITORY, 'target', 'luci-browser', 'node_modules')]
		.filter(Boolean).map((dir) => path.join(dir, 'playwright-core'));
	for (const place of places.concat(['playwright-core'])) {
		try {
			return require(place);
		}
		catch (e) {
			if (e.code !== 'MODULE_NOT_FOUND')
				throw e;
		}
	}
	return null;
}

const playwright = loadPlaywright();

function missing() {
	if (!fs.existsSync(CHROMIUM))
		return `no chromium at ${CHROMIUM} (apt-get install chromium)`;
	if (!playwright)
		return 'no playwright-core (npm install --prefix target/luci-browser playwright-core)';
	for (const version of VERSIONS)
		if (!fs.existsSync(path.join(UPSTREAM, version, 'modules', 'luci-base', 'htdocs')))
			return `no LuCI ${version} in ${UPSTREAM} (set DYNHOST_LUCI_UPSTREAM)`;
	return null;
}

const skip = skipReason(missing());

// The config as `uci commit` writes it: sections in order, options in order.
function uciText(sections) {
	return sections.map((section) => uciSection(section['.type'], section['.name'],
		Object.fromEntries(Object.entries(section).filter(([key]) => !key.startsWith('.'))))).join('\n');
}

function clone(value) {
	return JSON.parse(JSON.stringify(value));
}

// The router: the config file, the state folder, what the page asked for.
class Router {
	constructor(version, sections) {
		this.version = version;
		this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dynhost-luci-real-'));
		this.cacert = path.join(this.dir, 'ca.pem');
		fs.writeFileSync(this.cacert, '-----BEGIN CERTIFICATE-----\n');
		this.config = path.join(this.dir, 'dynhost');
		this.committed = sections.map((section) => section['.type'] === 'dynhost'
			? Object.assign({ cacert: this.cacert }, section) : section);
		this.staged = null;
		this.calls = [];
		this.applies = 0;
		fs.writeFileSync(this.config, uciText(this.committed), { mode: 0o600 });
	}

	get current() {
		return this.staged || this.committed;
	}

	status() {
		if (this.statusAnswer)
			return this.statusAnswer;
		const result = spawnSync(dynhostBinary(), ['-c', this.config, '-s', path.join(this.dir, 'state'), 'status', '-j'], { encoding: 'utf8' });
		return { code: result.status, stdout: result.stdout, stderr: result.stderr };
	}

	stage() {
		if (!this.staged)
			this.staged = clone(this.committed);
		return this.staged;
	}

	// One ubus call as rpcd answers it: [status, data].
	ubus(object, method, args) {
		this.calls.push(`${object}.${method}`);
		if (object === 'file' && method === 'exec') {
			const line = [args.command].concat(args.params || []).join(' ');
			if (line === '/usr/bin/dynhost status -j')
				return [0, this.status()];
			if (line === '/sbin/logread -e dynhost')
				return [0, { code: 0, stdout: this.logText || 'daemon.info dynhost[1]: started\n', stderr: '' }];
			if (line === '/etc/init.d/dynhost update')
				return [0, { code: 0, stdout: '', stderr: '' }];
			return [6];
		}
		if (object === 'luci' && method === 'getFeatures')
			return [0, {}];
		if (object === 'session' && method === 'access')
			return [0, { access: true }];
		if (object !== 'uci' || (args.config && args.config !== 'dynhost'))
			return [object === 'uci' ? 6 : 3];
		const find = (name) => this.stage().find((section) => section['.name'] === name);
		switch (method) {
		case 'get': {
			const values = {};
			this.current.forEach((section, index) => {
				values[section['.name']] = Object.assign({ '.anonymous': false, '.index': index }, section);
			});
			return [0, { values }];
		}
		case 'changes':
			return [0, { changes: this.staged ? { dynhost: [['set', 'x']] } : {} }];
		case 'add':
			this.stage().push(Object.assign({ '.type': args.type, '.name': args.name }, args.values || {}));
			return [0, { section: args.name }];
		case 'set': {
			const section = find(args.section);
			if (!section)
				return [4];
			Object.assign(section, args.values);
			return [0];
		}
		case 'delete': {
			const section = find(args.section);
			if (!section)
				return [4];
			if (args.options)
				args.options.forEach((option) => delete section[option]);
			else if (args.option)
				delete section[args.option];
			else
				this.staged = this.staged.filter((other) => other !== section);
			return [0];
		}
		case 'order':
			return [0];
		default:
			return [3];
		}
	}

	// apply_rollback: `uci commit` of the staged changes.
	apply() {
		this.applies++;
		if (!this.staged)
			return false;
		this.committed = this.staged;
		this.staged = null;
		fs.writeFileSync(this.config, uciText(this.committed), { mode: 0o600 });
		return true;
	}

	close() {
		fs.rmSync(this.dir, { recursive: true, force: true });
	}
}

// The page as LuCI's header.ut, view.ut and footer.ut (bootstrap theme) lay it out.
function pageHtml() {
	const env = {
		media: '/luci-static/bootstrap',
		resource: '/luci-static/resources',
		scriptname: '/cgi-bin/luci',
		pathinfo: '/admin/services/dynhost',
		documentroot: '/www',
		requestpath: ['admin', 'services', 'dynhost'],
		dispatchpath: ['admin', 'services', 'dynhost'],
		pollinterval: 5,
		ubuspath: '/ubus/',
		sessionid: '0123456789abcdef0123456789abcdef',
		token: 'fedcba9876543210fedcba9876543210',
		nodespec: { satisfied: true, title: 'DynHost', action: { type: 'view', path: 'dynhost/overview' } },
		apply_rollback: 90,
		apply_holdoff: 1,
		apply_timeout: 5,
		apply_display: 1,
		rollback_token: null
	};
	return `<!DOCTYPE html>
<html lang="en" data-darkmode="false">
<head>
<meta charset="utf-8">
<title>router - DynHost - LuCI</title>
<meta name="viewport" content="initial-scale=1.0">
<link rel="stylesheet" href="/luci-static/bootstrap/cascade.css">
<script src="/cgi-bin/luci/admin/translations/en"></script>
<script src="/luci-static/resources/cbi.js"></script>
</head>
<body class="lang_en DynHost" data-page="admin-services-dynhost">
<header><a class="brand" href="/">router</a><ul class="nav" id="topmenu" style="display:none"></ul><div id="indicators" class="pull-right"></div></header>
<div id="maincontent" class="container">
<div id="tabmenu" style="display:none"></div>
<script src="/luci-static/resources/luci.js"></script>
<script>L = new LuCI(${JSON.stringify(env)});</script>
<div id="view"><div class="spinning">Loading view…</div>
<script>L.require('ui').then(function(ui) { ui.instantiateView('dynhost/overview'); });</script>
</div>
</div>
<footer><ul class="breadcrumb pull-right" id="modemenu" style="display:none"></ul></footer>
<script>L.require('menu-bootstrap')</script>
</body>
</html>
`;
}

const MENU = {
	children: {
		admin: {
			title: 'Administration', satisfied: true,
			children: {
				services: {
					title: 'Services', satisfied: true,
					children: { dynhost: { title: 'DynHost', satisfied: true, action: { type: 'view', path: 'dynhost/overview' } } }
				}
			}
		}
	}
};

function staticFile(version, urlPath) {
	const luci = path.join(UPSTREAM, version);
	const roots = urlPath.startsWith('/luci-static/resources/')
		? [APP, path.join(luci, 'modules', 'luci-base', 'htdocs', 'luci-static', 'resources'),
			path.join(luci, 'themes', 'luci-theme-bootstrap', 'htdocs', 'luci-static', 'resources')]
			.map((root) => [root, urlPath.slice('/luci-static/resources/'.length)])
		: [[path.join(luci, 'themes', 'luci-theme-bootstrap', 'htdocs', 'luci-static'), urlPath.slice('/luci-static/'.length)]];
	for (const [root, rest] of roots) {
		const file = path.resolve(root, rest);
		if (file.startsWith(root + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile())
			return file;
	}
	return null;
}

const TYPES = { '.js': 'application/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };

function serve(router) {
	const server = http.createServer((request, response) => {
		const url = new URL(request.url, 'http://localhost');
		let body = '';
		request.on('data', (chunk) => { body += chunk; });
		request.on('end', () => {
			const send = (status, type, data) => {
				response.writeHead(status, type ? { 'Content-Type': type } : {});
				response.end(data);
			};
			if (url.pathname === '/cgi-bin/luci/admin/services/dynhost')
				return send(200, 'text/html; charset=utf-8', pageHtml());
			// Asked by the browser itself; LuCI's templates name no favicon.ico.
			if (url.pathname === '/favicon.ico')
				return send(204);
			if (url.pathname === '/cgi-bin/luci/admin/translations/en')
				return send(200, 'application/javascript', '');
			if (url.pathname === '/cgi-bin/luci/admin/menu')
				return send(200, 'application/json', JSON.stringify(MENU));
			if (url.pathname === '/cgi-bin/luci/admin/uci/apply_rollback')
				return router.apply() ? send(200, 'application/json', '{"token":"rollback"}') : send(204);
			// LuCI's apply asks cgi-io to run luci-peeraddr, to see whether the change cuts it off.
			if (url.pathname === '/cgi-bin/cgi-exec')
				return send(200, 'application/json', '{"remote_addr":"127.0.0.1","inbound_interfaces":["lan"]}');
			if (url.pathname === '/cgi-bin/luci/admin/uci/confirm')
				return send(200, 'application/json', '{}');
			if (url.pathname === '/ubus/' && request.method === 'POST') {
				const calls = JSON.parse(body);
				const answer = (message) => {
					if (message.method === 'list')
						return { jsonrpc: '2.0', id: message.id, result: {} };
					const [, object, method, args] = message.params;
					return { jsonrpc: '2.0', id: message.id, result: router.ubus(object, method, args || {}) };
				};
				return send(200, 'application/json', JSON.stringify(Array.isArray(calls) ? calls.map(answer) : answer(calls)));
			}
			const file = url.pathname.startsWith('/luci-static/') ? staticFile(router.version, url.pathname) : null;
			if (file)
				return send(200, TYPES[path.extname(file)] || 'application/octet-stream', fs.readFileSync(file));
			send(404, 'text/plain', 'not found');
		});
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// A fresh browser profile per page (LuCI caches the rpc URL, features and menu in
// sessionStorage), and every script error collected.
async function openPage(t, router) {
	const server = await serve(router);
	const browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
	t.after(async () => {
		await browser.close();
		server.close();
		router.close();
	});
	const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
	const errors = [];
	page.on('pageerror', (error) => errors.push(String(error)));
	page.on('console', (message) => {
		if (message.type() === 'error')
			errors.push(`${message.text()} (${message.location().url})`);
	});
	await page.goto(`http://127.0.0.1:${server.address().port}/cgi-bin/luci/admin/services/dynhost`);
	await page.waitForSelector('#dynhost-status');
	await page.waitForSelector('.cbi-section-table-row');
	return { page, errors };
}

async function screenshot(page, name) {
	if (!SCREENSHOTS)
		return;
	fs.mkdirSync(SCREENSHOTS, { recursive: true });
	await page.screenshot({ path: path.join(SCREENSHOTS, name + '.png'), fullPage: true });
}

function record(name, options) {
	return Object.assign({ '.type': 'record', '.name': name, username: 'example.com-' + name, password: 'secret-' + name }, options);
}

const GLOBAL = { '.type': 'dynhost', '.name': 'global' };

async function saveAndApply(page) {
	await page.click('.cbi-page-actions .cbi-button-apply');
}

for (const version of VERSIONS) {
	test(`LuCI ${version}: the page loads with no script error; results and table in words, refusals in the error colour`, { skip }, async (t) => {
		const router = new Router(version, [GLOBAL,
			record('home', { hostname: 'home.example.com', enabled: 'yes' }),
			record('home6', { hostname: 'home.example.com', family: 'ipv6', source: 'script', script: '/bin/echo ::1', enabled: '0' })]);
		// What the real dynhost printed for a record in each state (status.test.js keeps it so).
		router.statusAnswer = { code: 0, stdout: fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'status.json'), 'utf8'), stderr: '' };
		const { page, errors } = await openPage(t, router);
		await page.waitForSelector('#dynhost-status tr[data-record="badauth"]');
		const look = (name) => page.$eval(`#dynhost-status tr[data-record="${name}"] .dynhost-result`, (span) => {
			const style = getComputedStyle(span);
			return { color: style.color, transform: style.textTransform, variant: style.fontVariant, size: parseFloat(style.fontSize),
				cell: parseFloat(getComputedStyle(span.parentNode).fontSize), text: span.innerText };
		});
		const refused = await look('badauth');
		const pending = await look('never');
		const updated = await look('updated');
		assert.equal(refused.text, 'wrong username or password — fix and save to retry', 'as written: no capitals added');
		for (const shown of [refused, pending, updated]) {
			assert.equal(shown.transform, 'none');
			assert.equal(shown.variant, 'normal');
			assert.equal(shown.size, shown.cell, 'the size of the table\'s text');
		}
		assert.notEqual(refused.color, pending.color, 'a refusal does not look like "nothing sent yet"');
		assert.notEqual(refused.color, updated.color);
		assert.match(refused.color, /^rgb\((1[5-9]\d|2\d\d), (\d|[1-9]\d), (\d|[1-9]\d)\)$/, 'red: ' + refused.color);
		const rows = await page.$$eval('.cbi-section-table-row', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ')));
		assert.equal(rows.length, 2);
		assert.match(rows[1], /IPv6/, 'the family in words');
		assert.match(rows[1], /script/);
		assert.doesNotMatch(rows.join(' '), /\bipv[46]\b/, 'no raw codes in the table');
		await screenshot(page, `${version}-loaded`);

		// The longest validation message stays inside the editor.
		await page.click('.cbi-section-table-row[data-sid="home6"] .cbi-button-edit');
		await page.waitForSelector('.modal');
		const hostname = page.locator('.modal input[id$=".home6.hostname"]');
		await hostname.fill('');
		await hostname.pressSequentially('x');
		// LuCI shows it in its tooltip element, which lives outside the editor's.
		const message = page.locator('.cbi-tooltip').filter({ hasText: /Expecting a full host name/ });
		await message.waitFor();
		await screenshot(page, `${version}-long-message`);
		const inner = await message.boundingBox();
		const outer = await page.locator('.modal').boundingBox();
		assert.ok(inner.x >= outer.x && inner.x + inner.width <= outer.x + outer.width &&
			inner.y + inner.height <= outer.y + outer.height,
		`the message ${JSON.stringify(inner)} is inside the editor ${JSON.stringify(outer)}`);
		assert.deepEqual(errors, []);
	});

	test(`LuCI ${version}: a record added and saved makes a config the real dynhost takes, the untouched options as they were`, { skip }, async (t) => {
		const router = new Router(version, [GLOBAL,
			record('home', { hostname: 'home.example.com', enabled: 'yes' }),
			record('old', { hostname: 'old.example.com', enabled: 'off' })]);
		const untouched = fs.readFileSync(router.config, 'utf8').split('\n\n').slice(1).join('\n\n');
		const { page, errors } = await openPage(t, router);
		// LuCI enables the button from key events: typed, not filled.
		await page.locator('.cbi-section-create input[type="text"]').pressSequentially('office');
		await page.click('.cbi-section-create .cbi-button-add');
		await page.waitForSelector('.modal');
		await page.locator('.modal input[id$=".office.hostname"]').pressSequentially('office.example.com');
		await page.locator('.modal input[id$=".office.username"]').pressSequentially('example.com-office');
		await page.locator('.modal input[id$=".office.password"]').pressSequentially('office-Pw');
		await screenshot(page, `${version}-editor`);
		await page.click('.modal .cbi-button-positive');
		await page.waitForSelector('.modal', { state: 'hidden' });
		// After the editor: closing it renders the form again from the staged config.
		await page.locator('input[id$=".global.timeout"]').pressSequentially('45');
		await saveAndApply(page);
		await page.waitForFunction(() => document.body.innerText.includes('Configuration changes applied'));
		const written = fs.readFileSync(router.config, 'utf8');
		assert.match(written, /^config dynhost 'global'\n\toption cacert '[^']*'\n\toption timeout '45'\n\n/);
		assert.ok(written.includes(untouched + '\n'), 'the untouched records keep their own words (enabled yes and off)');
		assert.ok(written.endsWith("config record 'office'\n\toption hostname 'office.example.com'\n" +
			"\toption username 'example.com-office'\n\toption password 'office-Pw'\n"),
		'the new record: what was typed, and no default written for what was not');
		const status = router.status();
		assert.equal(status.code, 0, status.stderr);
		assert.equal(status.stderr, '', 'no warning either');
		assert.deepEqual(JSON.parse(status.stdout).records.map((r) => [r.name, r.enabled]), [['home', true], ['old', false], ['office', true]]);
		assert.deepEqual(errors, []);
	});

	test(`LuCI ${version}: ticking a record that duplicates an enabled one is refused before save, next to its row`, { skip }, async (t) => {
		const router = new Router(version, [GLOBAL,
			record('home', { hostname: 'home.example.com' }),
			record('spare', { hostname: 'HOME.example.com', enabled: 'off' })]);
		const before = fs.readFileSync(router.config, 'utf8');
		const { page, errors } = await openPage(t, router);
		const row = page.locator('.cbi-section-table-row[data-sid="spare"]');
		await row.locator('input[type="checkbox"]').check();
		await saveAndApply(page);
		await row.locator('.dynhost-problem', { hasText: /Record home already updates/ }).waitFor();
		await screenshot(page, `${version}-duplicate`);
		await page.waitForTimeout(1500);
		assert.equal(router.applies, 0, 'nothing applied');
		assert.ok(!router.calls.includes('uci.set'), 'nothing staged: ' + router.calls.join(' '));
		assert.equal(fs.readFileSync(router.config, 'utf8'), before);
		assert.equal(router.status().code, 0, 'dynhost still takes the file');
		assert.deepEqual(errors.filter((error) => !/invalid input value|already updates/.test(error)), []);
	});
}

for (const version of VERSIONS)
	test(`LuCI ${version}: the editor refuses a family change that makes a duplicate, and takes it back`, { skip }, async (t) => {
		const router = new Router(version, [GLOBAL,
			record('home', { hostname: 'home.example.com' }),
			record('home6', { hostname: 'home.example.com', family: 'ipv6' })]);
		const { page, errors } = await openPage(t, router);
		await page.click('.cbi-section-table-row[data-sid="home6"] .cbi-button-edit');
		await page.waitForSelector('.modal');
		const family = page.locator('.modal select[id$=".home6.family"]');
		await family.selectOption('ipv4');
		await page.click('.modal .cbi-button-positive');
		// The editor stays open and says why.
		await page.locator('.modal .dynhost-problem', { hasText: /Record home already updates this host name/ }).waitFor();
		await screenshot(page, `${version}-editor-duplicate`);
		assert.ok(await page.locator('.modal').isVisible(), 'the editor is still open');
		assert.ok(!router.calls.includes('uci.set'), 'nothing staged');
		// Back to IPv6: the problem goes, and the same editor saves.
		await family.selectOption('ipv6');
		await page.locator('.modal .dynhost-problem').waitFor({ state: 'detached' });
		await page.click('.modal .cbi-button-positive');
		await page.waitForSelector('.modal', { state: 'hidden' });
		assert.deepEqual(errors.filter((error) => !/invalid input value|already updates/.test(error)), []);
	});

for (const version of VERSIONS)
	test(`LuCI ${version}: text from outside shows as text, never as HTML`, { skip }, async (t) => {
		const inject = (n) => `<img src=x onerror="window.injected=${n}">`;
		const router = new Router(version, [GLOBAL, record('home', { hostname: 'home.example.com', source: inject(1) })]);
		// Any program may write a line with the word dynhost to the log; a dynhost message may
		// quote the server.
		router.logText = `user.notice root: dynhost ${inject(2)}\n`;
		router.statusAnswer = { code: 2, stdout: '', stderr: `dynhost: ${inject(3)}\n` };
		const { page, errors } = await openPage(t, router);
		await page.waitForSelector('#dynhost-status .alert-message');
		await page.waitForTimeout(500);
		assert.equal(await page.evaluate(() => window.injected), undefined);
		assert.equal(await page.locator('#dynhost-status img, #dynhost-log img, .cbi-section-table-row img').count(), 0);
		assert.ok((await page.locator('#dynhost-log').innerText()).includes(inject(2)));
		assert.ok((await page.locator('#dynhost-status').innerText()).includes(inject(3)));
		assert.ok((await page.locator('.cbi-section-table-row[data-sid="home"]').innerText()).includes(inject(1)));
		assert.deepEqual(errors, []);
	});
