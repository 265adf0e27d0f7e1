#!/usr/bin/env node
// npm run fuzz: the native-boundary fuzzer (test/fuzz/) run by hand, longer than in npm test.
//   npm run fuzz -- [--seed N] [--runs N] [--seconds S] [--timeout MS] [--fn name,name] [--addon PATH]
// Environment: FUZZ_SEED, FUZZ_RUNS, FUZZ_SECONDS, FUZZ_TIMEOUT_MS, FUZZ_FNS, GRADFORGE_ADDON.
// Defaults: a random seed (printed), no run limit, 300 s. Exits 1 if it found anything; the
// shrunk calls are saved under out/fuzz-findings/ with the command that replays each.
'use strict';
const path = require('path');
const { fuzz, summary } = require('../test/fuzz/driver');

function arg(name, env, def) {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (process.env[env] !== undefined && process.env[env] !== '') return process.env[env];
  return def;
}

const seed = Number(arg('seed', 'FUZZ_SEED', String(Math.floor(Math.random() * 2 ** 31))));
const runs = Number(arg('runs', 'FUZZ_RUNS', '1e9'));
const seconds = Number(arg('seconds', 'FUZZ_SECONDS', '300'));
const callTimeoutMs = Number(arg('timeout', 'FUZZ_TIMEOUT_MS', '5000'));
const fns = arg('fn', 'FUZZ_FNS', '');
const addon = arg('addon', 'GRADFORGE_ADDON', '');

console.log(`fuzz: seed ${seed}, ${seconds} s, watchdog ${callTimeoutMs} ms, addon ${addon || 'build/Release/gradforge.node'}`);
fuzz({
  seed, runs, timeMs: seconds * 1000, callTimeoutMs, fns: fns ? fns.split(',') : undefined,
  addon: addon ? path.resolve(addon) : undefined, log: (s) => console.log(s),
}).then((r) => {
  console.log(summary(r));
  console.log(`${r.findings.length === 0 ? 1 : 0} passed, ${r.findings.length === 0 ? 0 : 1} failed`);
  process.exit(r.findings.length === 0 ? 0 : 1);
}, (e) => {
  console.error(e);
  process.exit(2);
});
