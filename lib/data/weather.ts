/**
 * gf.datasets.seattleWeather(): daily weather at Seattle (NOAA's Seattle-Tacoma airport
 * records, 2012-01-01 to 2015-12-31) from `data/seattle-weather.csv` of the `vega-datasets`
 * npm package, as typed columns for time-series models.
 *
 * - The package is 43 MB unpacked (the data sets of the Vega examples), so gradforge does not
 *   install it: `npm install vega-datasets` (the loader says so when it is missing). The data
 *   are a U.S. Government work; the package is BSD-3-Clause.
 * - 1,461 rows, one per day, in date order with no gap (2012 is a leap year). Row i is the day
 *   `date[i]`; the CSV's first row is 2012-01-01: precipitation 0.0, temp_max 12.8,
 *   temp_min 5.0, wind 4.7, weather 'drizzle'.
 * - Columns (the CSV's names in brackets):
 *   date [date]           'YYYY-MM-DD'
 *   precipitation [precipitation]  mm of rain or melted snow that day, 0 .. 55.9
 *   tempMax [temp_max]    the day's highest temperature, degrees C, -1.6 .. 35.6
 *   tempMin [temp_min]    the day's lowest temperature, degrees C, -7.1 .. 18.3
 *   wind [wind]           mean wind speed, 0.4 .. 9.5; the package's datapackage.json says
 *                         km/h, but the values are NOAA's daily average in m/s
 *   weather [weather]     'drizzle' | 'rain' | 'snow' | 'sun' | 'fog', which Vega derived from
 *                         the other fields (meant for teaching, not a measurement)
 *
 * @example
 * const w = await gf.datasets.seattleWeather();
 * const series = gf.stack([gf.tensor(w.tempMax), gf.tensor(w.precipitation)], 1);  // [1461, 2]
 */
import * as fs from 'fs';
import * as path from 'path';
import { ValueError } from '../errors';
import { resolveDataPackage } from './imdb';

export type SeattleWeatherKind = 'drizzle' | 'rain' | 'snow' | 'sun' | 'fog';

export interface SeattleWeather {
  /** Number of days (rows): 1461. */
  length: number;
  /** 'YYYY-MM-DD', one per row, in order. */
  date: string[];
  /** mm per day. */
  precipitation: Float32Array;
  /** Degrees C. */
  tempMax: Float32Array;
  /** Degrees C. */
  tempMin: Float32Array;
  /** Daily mean wind speed (m/s; see the top of this file). */
  wind: Float32Array;
  /** Vega's category for the day. */
  weather: SeattleWeatherKind[];
}

const HEADER = 'date,precipitation,temp_max,temp_min,wind,weather';
const KINDS: readonly string[] = ['drizzle', 'rain', 'snow', 'sun', 'fog'];

/** Where the CSV is: the package exports only its JS entry, not its data files. */
function csvPath(): string {
  const entry = resolveDataPackage('seattleWeather', 'the Seattle weather data', 'vega-datasets', '43 MB', 'vega-datasets');
  // `require.resolve('vega-datasets/data/...')` is refused (ERR_PACKAGE_PATH_NOT_EXPORTED),
  // so walk up from the entry (build/index.js) to the package's root
  let dir = path.dirname(entry);
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new ValueError(`seattleWeather: found vega-datasets at ${entry} but not its package folder`);
    dir = up;
  }
  const file = path.join(dir, 'data', 'seattle-weather.csv');
  if (!fs.existsSync(file)) {
    throw new ValueError(`seattleWeather: ${file} is missing: this version of vega-datasets does not ship seattle-weather.csv (3.x does)`);
  }
  return file;
}

/** Parses the CSV text (the package's file, or the same format); exported for tests. */
export function parseSeattleWeather(text: string, source = 'seattle-weather.csv'): SeattleWeather {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== HEADER) throw new ValueError(`seattleWeather: ${source} starts with '${lines[0]}', expected '${HEADER}'`);
  const n = lines.length - 1;
  const out: SeattleWeather = {
    length: n, date: [], weather: [],
    precipitation: new Float32Array(n), tempMax: new Float32Array(n), tempMin: new Float32Array(n), wind: new Float32Array(n),
  };
  const numeric = [out.precipitation, out.tempMax, out.tempMin, out.wind];
  for (let i = 0; i < n; i++) {
    const f = lines[i + 1].split(',');
    const where = `${source} line ${i + 2}`;
    if (f.length !== 6) throw new ValueError(`seattleWeather: ${where} has ${f.length} fields, expected 6`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(f[0])) throw new ValueError(`seattleWeather: ${where}: '${f[0]}' is not a YYYY-MM-DD date`);
    out.date.push(f[0]);
    for (let c = 0; c < 4; c++) {
      const v = Number(f[c + 1]);
      // an empty field would read as 0 through Number(''): refuse it rather than invent a value
      if (f[c + 1] === '' || !Number.isFinite(v)) throw new ValueError(`seattleWeather: ${where}: '${f[c + 1]}' is not a number`);
      numeric[c][i] = v;
    }
    if (!KINDS.includes(f[5])) throw new ValueError(`seattleWeather: ${where}: unknown weather '${f[5]}'`);
    out.weather.push(f[5] as SeattleWeatherKind);
  }
  return out;
}

export async function seattleWeather(): Promise<SeattleWeather> {
  const file = csvPath();
  return parseSeattleWeather(await fs.promises.readFile(file, 'utf8'), file);
}
