// The hash of the sources that go into the addon (everything under native/ except the C++
// tests and references, and CMakeLists.txt): what prebuilds/<platform>/gradforge.json records,
// so a prebuild older than the kernels is caught (scripts/prebuild.js --check, test/package).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const EXCLUDED = new Set(['native/tests', 'native/ref']);

function files(root, rel, out) {
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = `${rel}/${e.name}`;
    if (EXCLUDED.has(r)) continue;
    if (e.isDirectory()) files(root, r, out);
    else if (e.isFile()) out.push(r);
  }
  return out;
}

function nativeSourceHash(root) {
  const list = files(root, 'native', []).concat('CMakeLists.txt').sort();
  const h = crypto.createHash('sha256');
  for (const f of list) {
    h.update(f + '\0');
    h.update(fs.readFileSync(path.join(root, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

module.exports = { nativeSourceHash };
