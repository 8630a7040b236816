// Hardware descriptions: every preset loads, every number has a source, the
// derived rates are HARDWARE.md's, and bad descriptions give coded errors
// that name the field.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CostModel } from '../../compiler/placement/cost-model.js';
import { roofsOf } from '../../compiler/api/analyze.js';
import { loadHardware, presetNames } from './load.js';
import { devicesOf } from './types.js';

function numericPaths(o: unknown, at = ''): string[] {
  if (typeof o === 'number') return [at.slice(0, -1)];
  if (!o || typeof o !== 'object' || o instanceof Map) return [];
  return Object.entries(o).flatMap(([k, v]) => (k === 'sources' ? [] : numericPaths(v, `${at}${k}.`)));
}

function writeHw(doc: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-hw-'));
  const f = path.join(dir, 'hw.json');
  fs.writeFileSync(f, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return f;
}

describe('hardware presets', () => {
  it('has the presets of HARDWARE.md section 1', () => {
    expect(presetNames()).toEqual(['hbm-pim-x4', 'npu', 'npu+hbm-pim', 'npu+hbm-pim+cxl-pnm', 'npu-gddr6']);
  });

  for (const name of presetNames()) {
    it(`${name} loads and every number has its source`, () => {
      const hw = loadHardware(name);
      const paths = numericPaths(hw);
      expect(paths.length).toBeGreaterThan(5);
      for (const p of paths) expect(hw.sources.get(p), p).toMatch(/\S{3,}/);
    });
  }

  it('devices per preset', () => {
    expect(devicesOf(loadHardware('npu'))).toEqual(['npu']);
    expect(devicesOf(loadHardware('npu+hbm-pim'))).toEqual(['npu', 'pim']);
    expect(devicesOf(loadHardware('npu+hbm-pim+cxl-pnm'))).toEqual(['npu', 'pim', 'pnm']);
    expect(devicesOf(loadHardware('hbm-pim-x4'))).toEqual(['pim']);
  });

  it('derives the rates HARDWARE.md states', () => {
    const c = new CostModel(loadHardware('npu+hbm-pim'));
    expect(c.npuMatrixFlops / 1e12).toBeCloseTo(32.77, 1); // 8 x 2048 x 2 x 1 GHz
    expect(loadHardware('npu+hbm-pim').memory.peakGBps).toBe(1228); // 4 x 307 GB/s
    const pim = roofsOf(loadHardware('npu+hbm-pim')).find((r) => r.device === 'pim')!;
    // 512 PCUs, one 16-lane MAC (32 B) per tCCD_L = 4 ns: 4.1 TB/s and 4.1 TFLOPS (HARDWARE.md quotes 4.9 at 300 MHz)
    expect(pim.bandwidth / 1e12).toBeCloseTo(4.1, 1);
    expect(pim.peakFlops / 1e12).toBeCloseTo(4.1, 1);
  });
});

describe('user hardware files', () => {
  it('extends a preset and overrides a number', () => {
    const hw = loadHardware(writeHw({ extends: 'npu+hbm-pim', name: 'fast', memory: { peakGBps: { value: 2000, source: 'what if' } } }));
    expect(hw.memory.peakGBps).toBe(2000);
    expect(hw.sources.get('memory.peakGBps')).toBe('what if');
    expect(hw.pim!.lanes).toBe(16);
  });

  const cases: [string, unknown, string, string][] = [
    ['an unknown preset', 'no-such-preset', 'PIMC0801', 'no-such-preset'],
    ['malformed JSON', '{ "name": ', 'PIMC0802', 'not valid JSON'],
    ['a missing field', { extends: 'npu', name: 'x', npu: { clockGHz: null } }, 'PIMC0803', '"npu.clockGHz"'],
    ['a wrong type', { extends: 'npu', name: 'x', npu: { engines: { value: 'eight', source: 's' } } }, 'PIMC0804', '"npu.engines"'],
    ['a value out of range', { extends: 'npu', name: 'x', memory: { streamEfficiency: { value: 1.5, source: 's' } } }, 'PIMC0804', '"memory.streamEfficiency"'],
    ['an unknown field', { extends: 'npu', name: 'x', npu: { enignes: 8 } }, 'PIMC0805', '"npu.enignes"'],
    ['a number without a source', { extends: 'npu', name: 'x', memory: { peakGBps: 999 } }, 'PIMC0806', '"memory.peakGBps"'],
    ['PIM without HBM', { extends: 'npu+hbm-pim', name: 'x', memory: { hbm: null } }, 'PIMC0804', 'memory.hbm'],
  ];
  for (const [what, doc, code, mentions] of cases) {
    it(`${what} is ${code}`, () => {
      const arg = typeof doc === 'string' && !doc.startsWith('{') ? doc : writeHw(doc);
      expect(() => loadHardware(arg)).toThrow(new RegExp(`^${code}: .*${mentions.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&')}`));
    });
  }
});
