'use strict';
// A stand-in for the part of LuCI's browser API that view/dynhost/overview.js calls, enough to
// load the view in Node, see what it declares and drive it. It records instead of rendering:
// elements are plain objects, the form keeps its sections and options, fs.exec answers from a
// table the test fills in.

const fs = require('node:fs');
const path = require('node:path');

const VIEW = path.resolve(__dirname, '..', '..', 'openwrt', 'luci-app-dynhost',
	'htdocs', 'luci-static', 'resources', 'view', 'dynhost', 'overview.js');

// LuCI's cbi.js gives strings a printf-like format(); the view uses %s, %d and %h (HTML-escaped).
const HTML_ESCAPES = { '&': '&#38;', '"': '&#34;', "'": '&#39;', '<': '&#60;', '>': '&#62;' };
if (!String.prototype.format) {
	Object.defineProperty(String.prototype, 'format', {
		value: function(...args) {
			return this.replace(/%([sdh])/g, (_match, kind) => {
				const value = args.shift();
				if (kind === 'h')
					return String(value).replace(/[&"'<>]/g, (c) => HTML_ESCAPES[c]);
				return kind === 'd' ? String(Math.trunc(Number(value))) : String(value);
			});
		}
	});
}

class Element {
	constructor(tag, attrs, children) {
		this.tag = tag;
		this.attrs = attrs;
		this.children = children;
	}
}

function flatten(children) {
	if (children == null)
		return [];
	return Array.isArray(children) ? children.flatMap(flatten) : [children];
}

// LuCI's E(tag, [attrs], [children]); an array as the tag makes a fragment.
function E(tag, attrs, children) {
	const attrsGiven = attrs != null && typeof attrs === 'object' && !Array.isArray(attrs) && !(attrs instanceof Element);
	return new Element(Array.isArray(tag) ? '#fragment' : tag,
		attrsGiven ? attrs : {}, flatten(attrsGiven ? children : attrs));
}

function textOf(node) {
	if (node == null)
		return '';
	if (!(node instanceof Element))
		return String(node);
	return node.children.map(textOf).join(' ');
}

function contains(node, wanted) {
	return node === wanted || (node instanceof Element && node.children.some((child) => contains(child, wanted)));
}

function findAll(node, predicate, found = []) {
	if (node instanceof Element) {
		if (predicate(node))
			found.push(node);
		node.children.forEach((child) => findAll(child, predicate, found));
	}
	return found;
}

function makeLuci() {
	const uciData = {};
	const execAnswers = {};
	const calls = { exec: [], poll: [], notifications: [], uciLoads: [], writes: [], validations: [] };

	const uci = {
		load(config) {
			calls.uciLoads.push(config);
			return Promise.resolve();
		},
		get(config, section, option) {
			const found = (uciData[config] || []).find((entry) => entry['.name'] === section);
			return found ? found[option] : undefined;
		},
		sections(config, type) {
			return (uciData[config] || []).filter((entry) => entry['.type'] === type);
		}
	};

	const luciFs = {
		exec(command, params) {
			const line = [command].concat(params || []).join(' ');
			calls.exec.push(line);
			const answer = execAnswers[line];
			if (answer === undefined)
				return Promise.reject(new Error('PermissionError: no answer set for ' + line));
			return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
		}
	};

	class Option {
		constructor(map, section, kind, name, title, description) {
			Object.assign(this, { map, section, kind, option: name, title, description });
			this.deps = [];
			this.choices = [];
		}
		depends(field, value) {
			this.deps.push(typeof field === 'object' ? field : { [field]: value });
		}
		value(key, label) {
			this.choices.push([key, label]);
		}
		// The widget of one record, when the test gave it a value in map.formValues.
		getUIElement(sectionId) {
			const values = this.map.formValues[sectionId] || {};
			return this.option in values ? { getValue: () => values[this.option] } : null;
		}
		cbid(sectionId) {
			return `cbid.${this.map.config}.${sectionId}.${this.option}`;
		}
		load(sectionId) {
			return uci.get(this.map.config, sectionId, this.option);
		}
		cfgvalue(sectionId) {
			return this.load(sectionId);
		}
		write(sectionId, value) {
			calls.writes.push([sectionId, this.option, value]);
		}
		triggerValidation(sectionId) {
			calls.validations.push([sectionId, this.option]);
			return this.validate ? this.validate(sectionId, this.getUIElement(sectionId)?.getValue()) : true;
		}
	}

	const optionClass = (kind) => ({ kind });

	class Section {
		constructor(map, kind, args) {
			Object.assign(this, { map, kind });
			if (kind === 'NamedSection')
				[this.section, this.sectiontype, this.title, this.description] = args;
			else
				[this.sectiontype, this.title, this.description] = args;
			this.children = [];
		}
		option(cls, name, title, description) {
			const option = new Option(this.map, this, cls.kind, name, title, description);
			this.children.push(option);
			return option;
		}
		cfgsections() {
			return uci.sections(this.map.config, this.sectiontype).map((entry) => entry['.name']);
		}
	}

	const sectionClass = (kind) => ({ kind });

	class FormMap {
		constructor(config, title, description) {
			Object.assign(this, { config, title, description });
			this.sections = [];
			this.formValues = {};
			form.maps.push(this);
		}
		section(cls, ...args) {
			const section = new Section(this, cls.kind, args);
			this.sections.push(section);
			return section;
		}
		// The stand-in renders no widgets: there is no element to find.
		findElement() {
			return null;
		}
		parse() {
			return Promise.resolve();
		}
		render() {
			this.root = E('div', { 'class': 'cbi-map' }, this.sections.map((section) => E('div', { 'class': 'cbi-section' }, section.title)));
			return Promise.resolve(this.root);
		}
	}

	const form = {
		maps: [],
		Map: FormMap,
		NamedSection: sectionClass('NamedSection'),
		GridSection: sectionClass('GridSection'),
		Value: optionClass('Value'),
		Flag: optionClass('Flag'),
		ListValue: optionClass('ListValue')
	};

	const modules = {
		view: {
			extend(properties) {
				class View {}
				Object.assign(View.prototype, properties);
				return View;
			}
		},
		dom: {
			content(node, children) {
				node.children = flatten(children);
				return node;
			}
		},
		form,
		fs: luciFs,
		poll: {
			add(fn, interval) {
				calls.poll.push({ fn, interval });
			}
		},
		ui: {
			addNotification(title, children, kind) {
				calls.notifications.push({ text: textOf(E('div', {}, children)), kind });
			},
			createHandlerFn(context, method) {
				return () => context[method]();
			}
		},
		uci
	};

	return { modules, uciData, execAnswers, calls };
}

// Loads the view the way LuCI's loader does: each 'require x' line becomes a parameter named x,
// and E and _ are globals of the page.
function loadView(luci) {
	const source = fs.readFileSync(VIEW, 'utf8');
	const required = [...source.matchAll(/^'require ([\w.]+)';$/gm)].map((match) => match[1]);
	for (const name of required)
		if (!(name in luci.modules))
			throw new Error(`the view requires '${name}', which the stand-in lacks`);
	const factory = new Function(...required, 'E', '_', source);
	const View = factory(...required.map((name) => luci.modules[name]), E, (text) => text);
	return { View, view: new View(), required };
}

module.exports = { makeLuci, loadView, Element, E, textOf, contains, findAll, VIEW };
