/*
 * Editor helpers shared by this package's edit dialogs. Node-RED serves a
 * module's resources/ folder at resources/<module>/; the dialogs load this
 * file with a <script src> before their own script.
 */
(function () {
  var ENV_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

  /** Bytes that canonical standard or url-safe base64 decodes to, or -1 (mirrors nodes/lib/crypto.ts). */
  function base64Bytes(text) {
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
      return -1;
    }
    if (/[+/]/.test(text) && /[-_]/.test(text)) {
      return -1;
    }
    var std = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    if (std.length % 4 === 1) {
      return -1;
    }
    while (std.length % 4 !== 0) {
      std += '=';
    }
    if (text.indexOf('=') >= 0 && text.length !== std.length) {
      return -1;
    }
    try {
      var raw = atob(std);
      return btoa(raw) === std ? raw.length : -1;
    } catch (e) {
      return -1;
    }
  }

  /**
   * true, or why the key text will not do (never quoting it). `passphraseOk`:
   * the algorithm also takes a passphrase (CryptoJS, or decrypt's "auto").
   * Messages come from the node's own catalogue under <ns>.errors.*.
   */
  function keyProblem(node, ns, value, passphraseOk) {
    if (value === '__PWRD__' || ENV_REF.test(value)) {
      return true;
    }
    if (typeof value !== 'string' || value === '') {
      return node._(ns + '.errors.keyRequired');
    }
    if (passphraseOk) {
      return true;
    }
    var t = value.trim();
    if (/^[0-9a-fA-F]{64}$/.test(t)) {
      return true;
    }
    if (/^[0-9a-fA-F]+$/.test(t)) {
      return node._(ns + '.errors.keyHexLength', { count: t.length });
    }
    var n = base64Bytes(t);
    if (n === 32) {
      return true;
    }
    if (n >= 0) {
      return node._(ns + '.errors.keyBase64Length', { count: n });
    }
    return node._(ns + '.errors.keyFormat');
  }

  // extend, never replace: resources/presets.js may have loaded first
  var kit = window.SayProIntegrationKit || {};
  kit.keyProblem = keyProblem;
  kit.base64Bytes = base64Bytes;
  window.SayProIntegrationKit = kit;
})();
