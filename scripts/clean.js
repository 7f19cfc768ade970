#!/usr/bin/env node
'use strict';
/** Removes dist/ before a build, so a renamed or deleted source never leaves a stale file to publish. */
const fs = require('fs');
const path = require('path');

fs.rmSync(path.resolve(__dirname, '..', 'dist'), { recursive: true, force: true });
// generated from nodes/lib/rules by scripts/copy-assets.js
fs.rmSync(path.resolve(__dirname, '..', 'resources', 'rules.js'), { force: true });
