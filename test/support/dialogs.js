'use strict';
/**
 * Runs a node's edit dialog definition (the `<script type="text/javascript">`
 * of nodes/<node>.html, after the package scripts it loads with
 * `<script src="resources/…">`: resources/rules.js, editor-common.js,
 * presets.js) in a vm, the way the Node-RED editor does, with a small RED / $
 * shim: the dialog's own validators, not a copy. RED.utils'
 * validateTypedProperty / validatePropertyExpression and the property
 * expression parser are taken from Node-RED's editor bundle
 * (@node-red/editor-client public/red/red.js), so they are the editor's too.
 *
 * dialog.problems(props, credentials) answers what the editor shows before
 * deploy, with Node-RED's own validateNodeProperties (from the same bundle):
 * for the properties, the red triangle on the node; for the credentials, the
 * red border in the dialog (Node-RED runs credential validators only there).
 */
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const jsonata = require('jsonata');

const root = path.resolve(__dirname, '..', '..');
const PACKAGE_RESOURCE = /<script\s+src="resources\/@saypro\/node-red-integration-kit\/([\w.-]+)"\s*><\/script>/g;
const CONFIG_TYPES = ['saypro-endpoint', 'saypro-nats', 'tls-config', 'http proxy'];
const INLINE_SCRIPT = /<script type="text\/javascript">([\s\S]*?)<\/script>/g;

/** The source of a function `name` in the editor bundle: from its declaration to the `}` at its indentation. */
function editorFunction(bundle, name) {
  const start = bundle.indexOf(`function ${name}(`);
  if (start < 0) throw new Error(`${name} is not in Node-RED's editor bundle`);
  const lineStart = bundle.lastIndexOf('\n', start) + 1;
  const indent = bundle.slice(lineStart, start);
  const end = bundle.indexOf(`\n${indent}}\n`, start);
  if (end < 0) throw new Error(`no end for ${name}`);
  return bundle.slice(start, end + indent.length + 2);
}

function editorUtils() {
  const bundle = fs.readFileSync(require.resolve('@node-red/editor-client/public/red/red.js'), 'utf8');
  const names = [
    'createError',
    'normalisePropertyExpression',
    'validatePropertyExpression',
    'validateTypedProperty',
    'validateNodeProperties',
    'validateNodeProperty',
  ];
  return names.map((n) => editorFunction(bundle, n)).join('\n');
}

/** A jQuery stand-in for validators that look for an open dialog: there is none. */
function jqueryShim() {
  const empty = {
    length: 0,
    val: () => undefined,
    prop: () => undefined,
    is: () => false,
    on: () => empty,
    find: () => empty,
    each: () => empty,
  };
  const $ = () => empty;
  $.extend = Object.assign;
  $.ajax = () => ({ done: () => ({ fail: () => undefined }) });
  return $;
}

/** `RED._`: the key and its substitutions, so that a refusal names its catalogue entry. */
function translate(key, subs) {
  return subs ? `${key} ${JSON.stringify(subs)}` : key;
}

/**
 * Loads nodes/<file>.html's dialog. `configNodes`: nodes the dialog can find
 * with RED.nodes.node(id) (e.g. an endpoint for the HTTP POST node).
 */
function loadDialog(file, configNodes = {}) {
  const html = fs.readFileSync(path.join(root, 'nodes', file + '.html'), 'utf8');
  const registered = {};
  const context = {
    console,
    jsonata,
    // what every browser has and a bare vm context does not
    URL,
    URLSearchParams,
    atob,
    btoa,
    $: jqueryShim(),
    setTimeout,
    clearTimeout,
    RED: {
      _: translate,
      nodes: {
        registerType(type, def) {
          def._ = (key, subs) => translate(key, subs);
          registered[type] = def;
        },
        node: (id) => configNodes[id] || null,
        getType: (type) => (CONFIG_TYPES.includes(type) ? { category: 'config' } : null),
        eachNode: () => undefined,
        eachConfig: () => undefined,
        createExportableNodeSet: () => [],
      },
      events: { on: () => undefined },
      settings: {},
    },
  };
  context.window = context;
  // resources/editor-dialogs.js registers on window only in a page (a document)
  context.document = {};
  vm.createContext(context);
  vm.runInContext(
    `${editorUtils()}\nRED.utils = { validatePropertyExpression, validateTypedProperty, normalisePropertyExpression };\n` +
      'RED.editor = { validateNodeProperties, validateNodeProperty };',
    context,
  );
  // the package scripts the dialog loads (in the order it loads them), then its own definition
  const tags = [...html.matchAll(PACKAGE_RESOURCE)].map((m) => m[1]);
  for (const script of tags) {
    if (script === 'editor-tools.js') continue; // preview / test connection buttons: no validators
    const file = path.join(root, 'resources', script);
    vm.runInContext(fs.readFileSync(file, 'utf8'), context, { filename: file });
  }
  for (const m of html.matchAll(INLINE_SCRIPT)) {
    vm.runInContext(m[1], context, { filename: `nodes/${file}.html` });
  }
  const types = Object.keys(registered);
  if (types.length !== 1) throw new Error(`nodes/${file}.html registered ${types.join(', ') || 'nothing'}`);
  const def = registered[types[0]];
  return {
    type: types[0],
    def,
    context,
    /** The node as the editor creates it from the palette: every default's value. */
    defaults() {
      const out = {};
      for (const [k, d] of Object.entries(def.defaults)) out[k] = d.value;
      return JSON.parse(JSON.stringify(out));
    },
    /**
     * Each property the editor would mark invalid, with what the validator
     * said: [] when the node is valid. `credentials` as RED.editor sees them.
     */
    problems(props, credentials = {}) {
      const node = { ...props, credentials: { ...credentials }, _: def._, _def: def, type: types[0], id: 'n1' };
      const { validateNodeProperties } = context.RED.editor;
      return [
        ...validateNodeProperties(node, def.defaults, node),
        ...validateNodeProperties(node, def.credentials || {}, node.credentials),
      ];
    },
  };
}

module.exports = { loadDialog };
