/*
 * Editor helpers shared by this package's edit dialogs. Node-RED serves a
 * module's resources/ folder at resources/<module>/; the dialogs load this
 * file with a <script src> before their own script, after resources/rules.js.
 */
(function () {
  /** The shared rules (resources/rules.js, built from nodes/lib/rules): loaded before this file. */
  function rules() {
    return window.SayProIntegrationKit.rules;
  }

  /** Bytes that canonical standard or url-safe base64 decodes to, or -1 (nodes/lib/rules/keys.ts). */
  function base64Bytes(text) {
    return rules().base64Bytes(text);
  }

  /**
   * true, or why the key text will not do (never quoting it). `passphraseOk`:
   * the algorithm also takes a passphrase (CryptoJS, or decrypt's "auto").
   * The rule is nodes/lib/rules/keys.ts, as the runtime applies it; messages
   * come from the node's own catalogue under <ns>.errors.*.
   */
  function keyProblem(node, ns, value, passphraseOk) {
    if (value === '__PWRD__' || rules().envRefName(value) !== undefined) {
      return true;
    }
    if (typeof value !== 'string' || value === '') {
      return node._(ns + '.errors.keyRequired');
    }
    if (passphraseOk) {
      return true;
    }
    var f = rules().keyFormat(value);
    if (f.ok) {
      return true;
    }
    if (f.problem === 'hexLength') {
      return node._(ns + '.errors.keyHexLength', { count: f.count });
    }
    if (f.problem === 'base64Length') {
      return node._(ns + '.errors.keyBase64Length', { count: f.count });
    }
    return node._(f.problem === 'empty' ? ns + '.errors.keyRequired' : ns + '.errors.keyFormat');
  }

  // extend, never replace: resources/presets.js may have loaded first
  var kit = window.SayProIntegrationKit || {};
  kit.keyProblem = keyProblem;
  kit.base64Bytes = base64Bytes;
  window.SayProIntegrationKit = kit;
})();
