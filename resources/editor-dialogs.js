/*
 * What the HTTP POST and endpoint dialogs show besides their fields, in one
 * place for the editor (loaded with a <script src>, served at
 * resources/@saypro/node-red-integration-kit/editor-dialogs.js, read as
 * window.SayProIntegrationKit.dialogs) and for Node (require), so that the
 * unit tests check the same code:
 *
 *   fullUrl(baseUrl, port, path)   the address a request goes to, as far as the
 *                                  editor knows it (mirrors joinUrl in
 *                                  nodes/lib/http/base-url.ts; ${VAR:-default}
 *                                  takes its default, a bare ${VAR} stays)
 *   hostOf(baseUrl, port)          the host (and port) of a base URL, or ''
 *   httpPostLabel / endpointLabel  the labels that tell nodes apart on the canvas
 *   envVarName(value)              NAME for a credential that is exactly ${NAME}
 *   secretRefs.attach / .save      password fields holding ${NAME} shown as
 *                                  text with a hint where to set the variable;
 *                                  the node's `secretVars` records the names
 *                                  (never a value) so that the dialog can show
 *                                  them again after a deploy, when Node-RED
 *                                  sends the editor only "a value is stored"
 */
(function (root) {
  'use strict';

  var WHOLE_REF = /^\s*\$\{([A-Za-z_][A-Za-z0-9_]*)\}\s*$/;
  var PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
  /** what Node-RED's editor holds for a stored password credential */
  var STORED = '__PWRD__';

  function str(v) {
    return v === undefined || v === null ? '' : String(v);
  }

  /** NAME when the value is exactly ${NAME} (the runtime reads it from the environment), else null. */
  function envVarName(value) {
    var m = WHOLE_REF.exec(str(value));
    return m ? m[1] : null;
  }

  /** ${NAME:-default} takes its default; ${NAME} stays as it is (its value is known only at run time). */
  function withDefaults(text) {
    return str(text).replace(PLACEHOLDER, function (all, name, fallback) {
      return fallback !== undefined ? fallback : all;
    });
  }

  /** scheme, host (port applied), path (no trailing "/") and query of a base URL setting; null when it has no scheme yet. */
  function baseParts(baseUrl, port) {
    var text = withDefaults(str(baseUrl).trim());
    var m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(?:[^/?#@]*@)?([^/?#]*)([^?#]*)(\?[^#]*)?/.exec(text);
    if (!m) return null;
    var host = m[2];
    var p = str(port).trim();
    if (/^\d+$/.test(p)) host = host.replace(/:\d*$/, '') + ':' + p;
    return { scheme: m[1], host: host, path: m[3].replace(/\/+$/, ''), query: m[4] ? m[4].slice(1) : '' };
  }

  /** The host of the base URL (with a port when one is given), or '' when it is not known in the editor. */
  function hostOf(baseUrl, port) {
    var b = baseParts(baseUrl, port);
    if (!b || b.host === '' || b.host.indexOf('${') >= 0) return '';
    return b.host;
  }

  /**
   * base + path as the runtime joins them (nodes/lib/http/base-url.ts joinUrl):
   * "/customers" onto "https://x/v1" is "https://x/v1/customers"; the base's
   * query comes first. {{templates}} in the path are shown as they are; user
   * info in the base is left out. '' when there is no base URL.
   */
  function fullUrl(baseUrl, port, path) {
    var raw = str(baseUrl).trim();
    if (raw === '') return '';
    var b = baseParts(raw, port);
    var prefix;
    var query = '';
    if (b) {
      prefix = b.scheme + b.host + b.path;
      query = b.query;
    } else {
      // e.g. "${PARTNER_URL}": known only when the flow starts
      prefix = withDefaults(raw)
        .replace(/[?#].*$/, '')
        .replace(/\/+$/, '');
    }
    var p = str(path).trim();
    var hashAt = p.indexOf('#');
    if (hashAt >= 0) p = p.slice(0, hashAt);
    var qAt = p.indexOf('?');
    var pathPart = qAt >= 0 ? p.slice(0, qAt) : p;
    var pathQuery = qAt >= 0 ? p.slice(qAt + 1) : '';
    var joined =
      pathPart === '' ? prefix + (b && b.path === '' ? '/' : '') : prefix + '/' + pathPart.replace(/^\/+/, '');
    var queries = [query, pathQuery].filter(function (q) {
      return q !== '';
    });
    return joined + (queries.length ? '?' + queries.join('&') : '');
  }

  /** A path short enough for a node label: no query, at most 24 characters (the end kept). */
  function shortPath(path) {
    var p = str(path)
      .trim()
      .replace(/[?#].*$/, '');
    return p.length > 24 ? '…' + p.slice(p.length - 23) : p;
  }

  /**
   * The HTTP POST node's label: its name; else method, where it goes (the
   * endpoint's host, else its preset's name, else the endpoint's name) and
   * the path, e.g. "POST api.stripe.com /v1/payment_intents".
   * `endpoint`: the endpoint config node (or undefined); `presetLabel`: the
   * name of the endpoint's preset, if it has one.
   */
  function httpPostLabel(node, endpoint, presetLabel, fallback) {
    if (str(node.name).trim() !== '') return node.name;
    var method = str(node.method) || (endpoint && str(endpoint.method)) || 'POST';
    var where = endpoint ? hostOf(endpoint.baseUrl, endpoint.port) || str(presetLabel) || str(endpoint.name) : '';
    var path = shortPath(node.path);
    if (where === '' && path === '') return fallback;
    return [method, where, path]
      .filter(function (s) {
        return s !== '';
      })
      .join(' ');
  }

  /** The endpoint's label: its name; else its host; else its preset's name; else the base URL as written. */
  function endpointLabel(node, presetLabel, fallback) {
    if (str(node.name).trim() !== '') return node.name;
    var host = hostOf(node.baseUrl, node.port);
    if (host) return host;
    if (presetLabel) return presetLabel;
    var raw = withDefaults(str(node.baseUrl).trim())
      .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#@]*@/, '$1')
      .replace(/[?#].*$/, '');
    return raw || fallback;
  }

  /**
   * Password credentials that name an environment variable. attach(): a field
   * holding ${NAME} (typed, from a preset, or recorded in node.secretVars
   * when Node-RED only says "stored") shows as text, with a hint under it;
   * any other value stays dots. save() (from oneditsave, which runs before
   * Node-RED reads the credential inputs): records the names in
   * node.secretVars and puts back "stored" for a field left as it was shown,
   * so that the stored credential is not rewritten.
   * Texts: the node's catalogue, key `<ns>.secretEnv.hint`.
   */
  var secretRefs = {
    attach: function (node, prefix, fields, ns) {
      var recorded = node.secretVars && typeof node.secretVars === 'object' ? node.secretVars : {};
      fields.forEach(function (field) {
        var input = $('#' + prefix + field);
        if (!input.length) return;
        var name = recorded[field];
        if (input.val() === STORED && typeof name === 'string' && envVarName('${' + name + '}')) {
          input.val('${' + name + '}');
          input.data('saypro-shown-ref', name);
        }
        var hint = $('<div class="form-tips saypro-secret-env-hint" style="display:none; margin-top:4px;"></div>')
          .attr('data-field', field)
          .insertAfter(input);
        function update() {
          var v = envVarName(input.val());
          if (v) {
            if (input.attr('type') !== 'text') input.attr('type', 'text');
            hint.text(node._(ns + '.secretEnv.hint', { name: v })).show();
          } else {
            if (input.attr('type') !== 'password') input.attr('type', 'password');
            hint.hide();
          }
        }
        input.on('input change keyup paste', update);
        update();
      });
    },
    save: function (node, prefix, fields) {
      var vars = {};
      var before = node.secretVars && typeof node.secretVars === 'object' ? node.secretVars : {};
      fields.forEach(function (field) {
        var input = $('#' + prefix + field);
        if (!input.length) {
          if (before[field]) vars[field] = before[field];
          return;
        }
        var v = input.val();
        var shown = input.data('saypro-shown-ref');
        var name = envVarName(v);
        if (shown && name === shown) {
          // as it was: the credential stored in the runtime is not sent again
          input.val(STORED);
          vars[field] = shown;
        } else if (name) {
          vars[field] = name;
        }
      });
      // a node saved before the setting existed stays as it was when nothing names a variable
      if (node.secretVars !== undefined || Object.keys(vars).length) node.secretVars = vars;
    },
  };

  /** The password credentials of this package's nodes (the dialogs' own lists; a unit test keeps them equal). */
  var SECRET_FIELDS = {
    'saypro-endpoint': ['apiKey', 'password', 'token', 'clientSecret'],
    'saypro-http-post': ['signingSecret', 'outboxKey'],
    'saypro-encrypt': ['key'],
    'saypro-decrypt': ['key', 'key2'],
  };

  /**
   * A node added to the editor with its credentials (an imported flow or
   * example, e.g. the demo's key ${SAYPRO_DEMO_KEY}): records the variables
   * they name, as saving its dialog would, so that the dialog shows them after
   * a deploy too. Nothing is recorded for a value that is not ${NAME}.
   */
  function recordSecretVars(node) {
    var fields = node && SECRET_FIELDS[node.type];
    if (!fields || !node.credentials) return false;
    var vars = null;
    fields.forEach(function (field) {
      var name = envVarName(node.credentials[field]);
      var known = node.secretVars && typeof node.secretVars === 'object' ? node.secretVars : {};
      if (name && known[field] !== name) {
        vars = vars || JSON.parse(JSON.stringify(known));
        vars[field] = name;
      }
    });
    if (vars) node.secretVars = vars;
    return !!vars;
  }

  var dialogs = {
    SECRET_FIELDS: SECRET_FIELDS,
    recordSecretVars: recordSecretVars,
    envVarName: envVarName,
    withDefaults: withDefaults,
    hostOf: hostOf,
    fullUrl: fullUrl,
    shortPath: shortPath,
    httpPostLabel: httpPostLabel,
    endpointLabel: endpointLabel,
    secretRefs: secretRefs,
  };

  if (typeof module === 'object' && module && module.exports) {
    module.exports = dialogs;
  }
  if (root && typeof root.document === 'object') {
    // extend, never replace: the other resources share window.SayProIntegrationKit
    var kit = root.SayProIntegrationKit || {};
    kit.dialogs = dialogs;
    root.SayProIntegrationKit = kit;
    // once, however many dialogs load this file
    if (!kit.dialogsListening && root.RED && root.RED.events && typeof root.RED.events.on === 'function') {
      kit.dialogsListening = true;
      root.RED.events.on('nodes:add', recordSecretVars);
    }
  }
})(typeof window !== 'undefined' ? window : undefined);
