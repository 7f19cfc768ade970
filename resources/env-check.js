/*
 * Whether the `${NAME}` references of this package's nodes name environment
 * variables that the Node-RED server has: a validator calls
 * SayProIntegrationKit.envMissing(text) and gets the first name the server
 * does not have, or null. Unknown names are asked for (GET
 * saypro-integration-kit/env?names=…, names only: the server never answers a
 * value) and, once the answer is in, every node of this package is validated
 * again so that its triangle appears or goes. Asked again after each deploy
 * (a restart with new variables). A reference with a default,
 * `${NAME:-default}`, never counts as missing.
 */
(function () {
  var REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/g;
  var known = {};
  var asking = {};
  var timer = null;

  function revalidate() {
    if (!window.RED || !RED.nodes) {
      return;
    }
    var touched = false;
    var check = function (n) {
      if (n.type && n.type.indexOf('saypro-') === 0 && RED.editor && RED.editor.validateNode) {
        RED.editor.validateNode(n);
        touched = true;
      }
    };
    RED.nodes.eachNode(check);
    RED.nodes.eachConfig(check);
    if (touched && RED.view) {
      RED.view.redraw(true);
    }
  }

  function ask() {
    timer = null;
    var names = Object.keys(asking);
    asking = {};
    if (!names.length || typeof $ === 'undefined' || typeof $.getJSON !== 'function') {
      return;
    }
    $.getJSON('saypro-integration-kit/env', { names: names.join(',') }).done(function (r) {
      Object.keys((r && r.set) || {}).forEach(function (n) {
        known[n] = r.set[n] === true;
      });
      revalidate();
    });
  }

  function later(name) {
    asking[name] = true;
    if (!timer) {
      timer = setTimeout(ask, 50);
    }
  }

  /** The names `text` refers to without a default. */
  function refs(text) {
    var out = [];
    if (typeof text !== 'string') {
      return out;
    }
    text.replace(REF, function (_m, name, dflt) {
      if (!dflt) {
        out.push(name);
      }
      return _m;
    });
    return out;
  }

  /** The first name `text` refers to that the server does not have; null when none (or not known yet). */
  function envMissing(text) {
    var names = refs(text);
    for (var i = 0; i < names.length; i++) {
      if (!(names[i] in known)) {
        later(names[i]);
      } else if (known[names[i]] === false) {
        return names[i];
      }
    }
    return null;
  }

  var kit = window.SayProIntegrationKit || {};
  kit.envMissing = envMissing;
  kit.envRefs = refs;
  window.SayProIntegrationKit = kit;

  if (window.RED && RED.events) {
    RED.events.on('deploy', function () {
      Object.keys(known).forEach(later);
    });
  }
})();
