#!/usr/bin/env node
// prepack / postpack: the published package.json carries no "scripts". A checkout needs its
// `prepare` (npm install builds the addon from source there), but in an installed package
// npm 12 lists any lifecycle script as one to approve, and none is needed: the binary is in
// prebuilds/, and `npx gradforge build` rebuilds from source. So prepack sets the scripts
// aside (package.json.orig) and postpack puts them back, as pinst does for postinstall.
//   node scripts/pack-manifest.js strip | restore
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const manifest = path.join(root, 'package.json');
const saved = path.join(root, 'package.json.orig');

const cmd = process.argv[2];
if (cmd === 'strip') {
  if (fs.existsSync(saved)) {
    console.error('pack-manifest: package.json.orig exists (an earlier pack did not finish): restore it first');
    process.exit(1);
  }
  const text = fs.readFileSync(manifest, 'utf8');
  fs.writeFileSync(saved, text);
  const pkg = JSON.parse(text);
  delete pkg.scripts;
  fs.writeFileSync(manifest, JSON.stringify(pkg, null, 2) + '\n');
} else if (cmd === 'restore') {
  if (fs.existsSync(saved)) fs.renameSync(saved, manifest);
} else {
  console.error('usage: pack-manifest.js strip | restore');
  process.exit(1);
}
