// gf.datasets.seattleWeather on the real CSV of the vega-datasets package (a devDependency
// here; an optional peer for users): row count, the first and last rows, date order, column
// types, the parser's refusals, and the error when the package is missing.
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as gf from '../../lib';
import { parseSeattleWeather } from '../../lib/data/weather';

describe('seattleWeather', () => {
  let w: gf.datasets.SeattleWeather;
  beforeAll(async () => { w = await gf.datasets.seattleWeather(); });

  test('1,461 days, 2012-01-01 .. 2015-12-31, one a day with no gap', () => {
    expect(w.length).toBe(1461);
    for (const col of [w.date, w.precipitation, w.tempMax, w.tempMin, w.wind, w.weather]) expect(col).toHaveLength(1461);
    expect(w.date[0]).toBe('2012-01-01');
    expect(w.date[1460]).toBe('2015-12-31');
    const day = 86_400_000;
    for (let i = 1; i < w.length; i++) {
      expect(Date.parse(`${w.date[i]}T00:00:00Z`) - Date.parse(`${w.date[i - 1]}T00:00:00Z`)).toBe(day);
    }
  });

  test('the first and last rows hold the values of the CSV, as float32', () => {
    expect(w.precipitation).toBeInstanceOf(Float32Array);
    const row = (i: number): unknown[] => [w.date[i], w.precipitation[i], w.tempMax[i], w.tempMin[i], w.wind[i], w.weather[i]];
    const f = Math.fround;
    // 2012-01-01,0.0,12.8,5.0,4.7,drizzle / 2012-01-02,10.9,10.6,2.8,4.5,rain / 2015-12-31,0.0,5.6,-2.1,3.5,sun
    expect(row(0)).toEqual(['2012-01-01', 0, f(12.8), 5, f(4.7), 'drizzle']);
    expect(row(1)).toEqual(['2012-01-02', f(10.9), f(10.6), f(2.8), f(4.5), 'rain']);
    expect(row(1460)).toEqual(['2015-12-31', 0, f(5.6), f(-2.1), f(3.5), 'sun']);
  });

  test('ranges and categories are those the loader documents', () => {
    const range = (a: Float32Array): [number, number] => [Math.min(...a), Math.max(...a)];
    expect(range(w.precipitation)).toEqual([0, Math.fround(55.9)]);
    expect(range(w.tempMax)).toEqual([Math.fround(-1.6), Math.fround(35.6)]);
    expect(range(w.tempMin)).toEqual([Math.fround(-7.1), Math.fround(18.3)]);
    expect(range(w.wind)).toEqual([Math.fround(0.4), Math.fround(9.5)]);
    const counts: Record<string, number> = {};
    for (const k of w.weather) counts[k] = (counts[k] ?? 0) + 1;
    expect(counts).toEqual({ drizzle: 53, rain: 641, sun: 640, snow: 26, fog: 101 });
    for (let i = 0; i < w.length; i++) expect(w.tempMin[i]).toBeLessThanOrEqual(w.tempMax[i]);
  });

  test('the parser refuses a wrong header, a short row, an empty or non-numeric field, an unknown category', () => {
    const head = 'date,precipitation,temp_max,temp_min,wind,weather\n';
    expect(parseSeattleWeather(`${head}2012-01-01,0.0,12.8,5.0,4.7,drizzle\r\n`).tempMax[0]).toBeCloseTo(12.8, 5);
    expect(() => parseSeattleWeather('date,temp\n2012-01-01,1\n')).toThrow(/starts with 'date,temp'/);
    expect(() => parseSeattleWeather(`${head}2012-01-01,0.0,12.8,5.0,drizzle\n`)).toThrow(/line 2 has 5 fields/);
    expect(() => parseSeattleWeather(`${head}2012-01-01,,12.8,5.0,4.7,rain\n`)).toThrow(/line 2: '' is not a number/);
    expect(() => parseSeattleWeather(`${head}2012-01-01,0,warm,5.0,4.7,rain\n`)).toThrow(/'warm' is not a number/);
    expect(() => parseSeattleWeather(`${head}2012-01-01,0,1,0,4.7,hail\n`)).toThrow(/unknown weather 'hail'/);
    expect(() => parseSeattleWeather(`${head}01/01/2012,0,1,0,4.7,rain\n`)).toThrow(/not a YYYY-MM-DD date/);
  });
});

test('without the vega-datasets package the loader says how to install it', () => {
  // Load the TypeScript sources (transpiled on the fly, so no build is needed) in a child
  // whose module resolution cannot see vega-datasets.
  const root = path.join(__dirname, '..', '..');
  const code = `
    const ts = require('typescript');
    const fs = require('fs');
    require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'),
      { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);
    const Module = require('module');
    const orig = Module._resolveFilename;
    Module._resolveFilename = function (req, ...rest) {
      if (req.startsWith('vega-datasets')) { const e = new Error('not found'); e.code = 'MODULE_NOT_FOUND'; throw e; }
      return orig.call(this, req, ...rest);
    };
    require(${JSON.stringify(path.join(root, 'lib', 'data', 'weather.ts'))}).seattleWeather()
      .then(() => process.exit(3), (e) => { console.log(e.name + ': ' + e.message); });`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', cwd: root });
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/DatasetNotInstalledError: seattleWeather: .*`vega-datasets`.*npm install vega-datasets/);
});
