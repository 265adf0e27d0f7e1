// examples/save-load.ts runs and shows what it claims.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runSaveLoad } from '../../examples/save-load';

test('example:save-load saves, loads bit for bit, and resumes training exactly', async () => {
  const folder = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gf-example-')), 'out');
  const r = await runSaveLoad(folder);
  expect(r.files).toEqual(['model.json', 'weights.bin']);
  expect(r.sameAfterLoad).toBe(true);
  expect(r.resumedLosses).toEqual(r.straightLosses);
  expect(fs.existsSync(path.join(folder, 'best', 'model.json'))).toBe(true);
});
