'use strict';
// The page around the form: the status box that polling refreshes, "Update now", the log panel,
// and the commands all of it runs.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { makeLuci, loadView, textOf, contains, findAll } = require('./luci-stub.js');

const STATUS = fs.readFileSync(path.join(__dirname, 'fixtures', 'status.json'), 'utf8');
const ACL = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'openwrt', 'luci-app-dynhost',
	'root', 'usr', 'share', 'rpcd', 'acl.d', 'luci-app-dynhost.json'), 'utf8'));

const STATUS_COMMAND = '/usr/bin/dynhost status -j';
const LOG_COMMAND = '/sbin/logread -e dynhost';
const UPDATE_COMMAND = '/etc/init.d/dynhost update';

function ok(stdout) {
	return { code: 0, stdout, stderr: '' };
}

async function renderedPage(answers = {}, uciData = []) {
	const luci = makeLuci();
	Object.assign(luci.execAnswers, {
		[STATUS_COMMAND]: ok(STATUS),
		[LOG_COMMAND]: ok('Fri Nov 27 10:00:00 2026 daemon.info dynhost[1]: INFO  [dynhost] home: nochg\n')
	}, answers);
	luci.uciData.dynhost = uciData;
	const { view } = loadView(luci);
	const root = await view.render(await view.load());
	const map = luci.modules.form.maps[0];
	const byId = (id) => findAll(root, (node) => node.attrs.id === id)[0];
	return { luci, view, root, map, status: byId('dynhost-status'), log: byId('dynhost-log') };
}

function button(root, label) {
	return findAll(root, (node) => node.tag === 'button' && textOf(node) === label)[0];
}

test('status, form and log are on the page; the status box is not inside the form', async () => {
	const { root, map, status, log } = await renderedPage();
	assert.ok(contains(root, map.root), 'the form is on the page');
	assert.ok(contains(root, status) && contains(root, log));
	assert.ok(!contains(map.root, status) && !contains(map.root, log),
		'saving re-renders the form element: the status and log must live outside it');
	assert.equal(findAll(status, (node) => node.tag === 'tr' && node.attrs['data-record']).length, 16);
	assert.match(textOf(status), /wrong username or password — fix and save to retry/);
});

test('polling refreshes the status and the log every few seconds', async () => {
	const { luci, status, log } = await renderedPage();
	assert.equal(luci.calls.poll.length, 1);
	assert.ok(luci.calls.poll[0].interval >= 2 && luci.calls.poll[0].interval <= 10, `every ${luci.calls.poll[0].interval} s`);

	luci.execAnswers[STATUS_COMMAND] = ok('{"records": []}');
	luci.execAnswers[LOG_COMMAND] = ok('line one\nline two\n');
	await luci.calls.poll[0].fn();
	assert.match(textOf(status), /No records yet/);
	assert.equal(findAll(status, (node) => node.tag === 'tr').length, 0);
	assert.equal(textOf(log), 'line one\nline two');

	luci.execAnswers[STATUS_COMMAND] = { code: 2, stdout: '', stderr: 'ERROR [dynhost] /etc/config/dynhost: No such file or directory (os error 2)\n' };
	await luci.calls.poll[0].fn();
	assert.match(textOf(status), /Cannot read the status: ERROR \[dynhost\] \/etc\/config\/dynhost: No such file/);
});

test('a status command that cannot run at all says why', async () => {
	const { status } = await renderedPage({ [STATUS_COMMAND]: new Error('PermissionError: Permission denied') });
	assert.match(textOf(status), /Cannot read the status: PermissionError: Permission denied/);
});

test('"Update now" runs the init script\'s update and says what happened', async () => {
	const { luci, root } = await renderedPage({ [UPDATE_COMMAND]: ok('') });
	const update = button(root, 'Update now');
	assert.ok(update, 'the button is on the page');
	await update.attrs.click();
	assert.equal(luci.calls.exec.at(-1), UPDATE_COMMAND);
	assert.deepEqual(luci.calls.notifications.map((n) => n.kind), ['info']);

	luci.execAnswers[UPDATE_COMMAND] = { code: 1, stdout: '', stderr: "dynhost is not running: start it with '/etc/init.d/dynhost start', or run 'dynhost update' for one pass\n" };
	await update.attrs.click();
	assert.equal(luci.calls.notifications[1].kind, 'warning');
	assert.match(luci.calls.notifications[1].text, /Update failed: dynhost is not running/);
});

test('the log panel shows the last 50 dynhost lines, and never a configured secret', async () => {
	const lines = Array.from({ length: 80 }, (_, i) => `line ${i} dynhost`);
	lines[78] = 'someone logged dynhost keys AppKey-1 AppSecret-1 and ConsumerKey-1';
	lines[79] = 'someone logged dynhost password s3cr3t-Pw and p@ss.word';
	const { log } = await renderedPage({ [LOG_COMMAND]: ok(lines.join('\n') + '\n') }, [
		{ '.name': 'home4', '.type': 'record', password: 's3cr3t-Pw' },
		{ '.name': 'home6', '.type': 'record', password: 'p@ss.word' },
		{ '.name': 'apex', '.type': 'record', method: 'api', application_key: 'AppKey-1', application_secret: 'AppSecret-1', consumer_key: 'ConsumerKey-1' },
		{ '.name': 'draft', '.type': 'record' }
	]);
	const shown = textOf(log).split('\n');
	assert.equal(shown.length, 50);
	assert.equal(shown[0], 'line 30 dynhost');
	assert.equal(shown.at(-2), 'someone logged dynhost keys AppKey-1 *** and ***', 'the application key is no secret');
	assert.equal(shown.at(-1), 'someone logged dynhost password *** and ***');
});

test('an api record shows its method, and a zone refresh that is still pending', async () => {
	const { status } = await renderedPage();
	const row = (name) => findAll(status, (node) => node.tag === 'tr' && node.attrs['data-record'] === name)[0];
	assert.match(textOf(row('wildcard')), /\*\.wildcard\.example\.com +wildcard +· +OVHcloud API/);
	assert.match(textOf(row('wildcard')), /zone refresh pending/);
	assert.match(textOf(row('updated')), /updated +· +DynHost/);
	assert.doesNotMatch(textOf(row('updated')), /refresh pending/);
	assert.match(textOf(row('denied')), /the OVHcloud API refused the keys/);
});

test('masking skips records without a password, and leaves other text alone', () => {
	const { view } = loadView(makeLuci());
	assert.equal(view.logTail(ok('a s3cret b s3cret\nc\n'), ['s3cret', undefined, ''], 50), 'a *** b ***\nc');
});

test('the log panel says when there is nothing, or when the log cannot be read', async () => {
	assert.match(textOf((await renderedPage({ [LOG_COMMAND]: ok('') })).log), /No dynhost lines/);
	const failed = await renderedPage({ [LOG_COMMAND]: new Error('NotFoundError: Resource not found') });
	assert.match(textOf(failed.log), /could not be read: NotFoundError/);
});

test('the page runs exactly the commands the ACL grants, with their arguments', async () => {
	const { luci, root } = await renderedPage({ [UPDATE_COMMAND]: ok('') });
	await luci.calls.poll[0].fn();
	await button(root, 'Update now').attrs.click();
	const granted = ['read', 'write'].flatMap((scope) => Object.keys(ACL['luci-app-dynhost'][scope].file || {}));
	assert.deepEqual([...new Set(luci.calls.exec)].sort(), granted.sort());
	assert.deepEqual(Object.keys(ACL['luci-app-dynhost'].write.file), [UPDATE_COMMAND],
		'only the command that changes something needs write access');
});

test('the view needs nothing but luci-base modules', () => {
	const { required } = loadView(makeLuci());
	assert.deepEqual(required.sort(), ['dom', 'form', 'fs', 'poll', 'uci', 'ui', 'view']);
});
