// A loaded hardware description written back (describeHardware) loads as the
// same hardware, sources included: what a bundle's hardware.json relies on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeHardware } from './describe.js';
import { loadHardware, presetNames } from './load.js';

describe('describeHardware', () => {
  for (const name of presetNames()) {
    it(`${name}: written back and loaded again, the same hardware and sources`, () => {
      const hw = loadHardware(name);
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-hw-')), 'hw.json');
      fs.writeFileSync(file, JSON.stringify(describeHardware(hw)));
      const again = loadHardware(file);
      const { file: _a, sources: s1, ...rest1 } = hw;
      const { file: _b, sources: s2, ...rest2 } = again;
      expect(rest2).toEqual(rest1);
      expect([...s2].sort()).toEqual([...s1].sort());
      expect(s1.size).toBeGreaterThan(0);
    });
  }
});
