// Fuzz test of the native boundary (test/fuzz/: signatures.js the table of exports,
// generate.js the fast-check arbitraries of mostly-valid calls with one or two wrong arguments,
// child.js the process that makes the calls and judges them, driver.js the runner with its
// watchdog). Every export of binding.d.ts is called in child processes, so a crash is caught
// and reported with its seed and the exact call (saved, shrunk, under out/fuzz-findings/).
// Here: a fixed seed for about 40 seconds. By hand: `npm run fuzz -- --seed N --seconds S`.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const root = path.join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SIGNATURES } = require('./signatures.js') as { SIGNATURES: Record<string, { args: { name: string; optional?: boolean }[] }> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fuzz, summary } = require('./driver.js') as {
  fuzz: (o: Record<string, unknown>) => Promise<FuzzResult>;
  summary: (r: FuzzResult) => string;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { BASE } = require('./generate.js') as { BASE: Record<string, unknown> };

interface FuzzResult {
  calls: number;
  runs: number;
  findings: { kind: string; fn: string; detail: string }[];
  perFn: Record<string, { calls: number; returned: number; threw: number }>;
}

const addonPath = process.env.GRADFORGE_ADDON || path.join(root, 'build/Release/gradforge.node');
const seconds = Number(process.env.FUZZ_SECONDS || 40);

/** Each method of `interface Binding` in binding.d.ts with its parameters (name, optional). */
function declaredSignatures(): Record<string, { name: string; optional: boolean }[]> {
  const file = path.join(root, 'binding.d.ts');
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: Record<string, { name: string; optional: boolean }[]> = {};
  src.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== 'Binding') return;
    for (const m of node.members) {
      if (!ts.isMethodSignature(m) || !ts.isIdentifier(m.name)) continue;
      out[m.name.text] = m.parameters.map((p) => ({ name: p.name.getText(src), optional: !!p.questionToken }));
    }
  });
  return out;
}

describe('native boundary fuzz', () => {
  test('the fuzz table covers every export of the addon and of binding.d.ts, with their parameters', () => {
    const declared = declaredSignatures();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(addonPath) as Record<string, unknown>;
    expect(Object.keys(SIGNATURES).sort()).toEqual(Object.keys(declared).sort());
    expect(Object.keys(SIGNATURES).sort()).toEqual(Object.keys(addon).sort());
    expect(Object.keys(BASE).sort()).toEqual(Object.keys(declared).sort()); // a generator for each
    for (const [fn, params] of Object.entries(declared)) {
      const table = SIGNATURES[fn].args.map((a) => ({ name: a.name, optional: !!a.optional }));
      expect({ fn, params: table }).toEqual({ fn, params });
    }
  });

  test(`a fixed seed for ${seconds} s: no crash, hang or contract violation`, async () => {
    const r = await fuzz({
      seed: Number(process.env.FUZZ_SEED || 20261201), timeMs: seconds * 1000,
      callTimeoutMs: Number(process.env.FUZZ_TIMEOUT_MS || 5000), addon: addonPath,
      log: (s: string) => process.stdout.write(s + '\n'),
    });
    process.stdout.write(summary(r) + '\n');
    expect(r.calls).toBeGreaterThan(1000);
    // the generator reaches the kernels: every export returned normally at least once
    for (const fn of Object.keys(SIGNATURES)) expect({ fn, returned: (r.perFn[fn]?.returned ?? 0) > 0 }).toEqual({ fn, returned: true });
    expect(r.findings.map((f) => `${f.kind} ${f.fn}: ${f.detail}`)).toEqual([]);
  }, (seconds + 60) * 1000);
});
