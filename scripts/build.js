#!/usr/bin/env node
// Build: compile TypeScript to CommonJS under dist/, then copy each node's editor files
// (.html, locales/, icons/) beside its entry .js, which is where Node-RED looks for them.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
} catch {
  // Installed from the registry tarball: dist/ is shipped, nothing to build.
  if (fs.existsSync(path.join(dist, 'nodes'))) process.exit(0);
  console.error('build: TypeScript is not installed; run `npm install` in the package folder first');
  process.exit(1);
}

// Compile over the previous output (tests may be loading it); `--clean` starts from nothing.
if (process.argv.includes('--clean')) fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });

function copyDir(from, to) {
  if (!fs.existsSync(from)) return;
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyDir(src, dst);
    else fs.copyFileSync(src, dst);
  }
}

const nodesSrc = path.join(root, 'nodes');
const nodesOut = path.join(dist, 'nodes');
fs.mkdirSync(nodesOut, { recursive: true });
for (const f of fs.readdirSync(nodesSrc)) {
  if (f.endsWith('.html')) fs.copyFileSync(path.join(nodesSrc, f), path.join(nodesOut, f));
}
copyDir(path.join(nodesSrc, 'locales'), path.join(nodesOut, 'locales'));
copyDir(path.join(root, 'icons'), path.join(nodesOut, 'icons'));
