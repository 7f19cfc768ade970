#!/usr/bin/env node
'use strict';
// Copies what tsc does not: editor templates (nodes/*.html), icons, and the
// message catalogues + help (locales/). Node-RED reads a node's catalogue and
// help only from locales/ beside the node's .js file, so they go to dist/nodes/.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'nodes');

function copyDir(from, to, filter) {
  if (!fs.existsSync(from)) return 0;
  let count = 0;
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) {
      count += copyDir(src, dst, filter);
    } else if (!filter || filter(entry.name)) {
      fs.copyFileSync(src, dst);
      count++;
    }
  }
  return count;
}

fs.mkdirSync(out, { recursive: true });
let n = 0;
n += copyDir(path.join(root, 'nodes'), out, (name) => name.endsWith('.html'));
n += copyDir(path.join(root, 'nodes', 'icons'), path.join(out, 'icons'));
n += copyDir(path.join(root, 'locales'), path.join(out, 'locales'));
// nodes/lib and nodes/common contain no .html; the recursive copy above only
// picks .html files, so nothing else from the source tree leaks into dist/.
console.log(`copy-assets: ${n} files copied to ${path.relative(root, out)}`);
