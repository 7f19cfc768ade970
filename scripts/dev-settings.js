/**
 * Node-RED settings used by `npm start`: a project-local user directory
 * (.node-red/), this package loaded straight from the project root, the
 * editor on 127.0.0.1:1880. Copy what you need into your own settings.js.
 */
const path = require('path');

const root = path.resolve(__dirname, '..');

module.exports = {
  uiHost: process.env.HOST || '127.0.0.1',
  uiPort: Number(process.env.PORT) || 1880,
  flowFile: 'flows.json',
  flowFilePretty: true,
  // The package itself (its package.json declares the nodes and examples/).
  nodesDir: [root],
  logging: {
    console: { level: process.env.NODE_RED_LOG_LEVEL || 'info', metrics: false, audit: false },
  },
  editorTheme: {
    projects: { enabled: false },
    tours: false,
  },
  // No update checks: an edge box or a demo should not call out.
  telemetry: { enabled: false },
  functionExternalModules: false,
  debugMaxLength: 2000,
};
