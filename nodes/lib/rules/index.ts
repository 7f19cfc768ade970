/**
 * One home for each rule that both the runtime and the edit dialogs apply.
 * Pure: no Node.js or Node-RED import, no Buffer; the build also ships these
 * modules to the editor as resources/rules.js (window.SayProIntegrationKit.rules,
 * see scripts/copy-assets.js), and test/lib/editor-parity.spec.js checks that
 * every dialog accepts exactly what the runtime accepts.
 */
export * from './env';
export * from './event-types';
export * from './headers';
export * from './keys';
export * from './numbers';
export * from './objects';
export * from './path';
export * from './problems';
export * from './secrets';
export * from './settings';
export * from './status-codes';
export * from './urls';
