// What the physics says must show in the decisions, on builder models of real
// sizes (weights left as sparse holes: placement needs only shapes):
// - decode, batch 1: weight GEMVs and attention run in the PIM banks, as far
//   as the rows PIM can execute on hold them (a 7B model's weights do not all
//   fit: the rest run on the NPU, and nothing left there would have fit);
// - as the batch grows, weight GEMVs move to the NPU, attention stays in
//   memory (as far as its rows hold the caches);
// - prefill runs on the NPU.
// And the optimal placement is never worse than a baseline, and strictly
// better than each baseline somewhere in the grid.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../examples/builders/index.js';
import type { Graph } from '../../ir/graph.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import { loadModel } from '../api/model.js';
import { fitPim } from './pim-capacity.js';
import { placeScenario, type PlacementResult } from './place.js';

const hw = loadHardware('npu+hbm-pim');
const BATCHES = [1, 4, 16, 64];
const graphs = new Map<string, Graph>();

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-physics-'));
  for (const preset of ['gpt2-small', 'llama2-7b', 'midm-7b']) {
    for (const phase of ['decode', 'prefill'] as const) {
      const { modelPath } = await buildModel({ preset, phase, outDir: path.join(dir, `${preset}-${phase}`), externalData: 'always', sparseWeights: true });
      graphs.set(`${preset}-${phase}`, loadModel(modelPath, { stage: 'fused' }).graph);
    }
  }
}, 120_000);

function devicesOfKind(r: PlacementResult, kind: string): Set<string> {
  return new Set(r.problem.nodes.flatMap((w, i) => (w.kind === kind ? [r.chosen.assignment[i]!] : [])));
}

/** Nodes of a kind on the NPU that would not fit the PIM rows beside what the placement keeps there. */
function noneWouldFit(r: PlacementResult, kind: string): void {
  const a = r.chosen.assignment;
  expect(fitPim(r.problem, hw, a).fits).toBe(true);
  r.problem.nodes.forEach((w, i) => {
    if (w.kind !== kind || a[i] !== 'npu') return;
    const more = [...a];
    more[i] = 'pim';
    expect(fitPim(r.problem, hw, more).fits, w.op.name).toBe(false);
  });
}

describe.each(['llama2-7b', 'midm-7b'])('%s', (preset) => {
  it('decode at batch 1: weight GEMVs on PIM as far as its rows hold (8 GiB with RA12 = 0 for 12+ GiB of weights), the rest on the NPU; attention on PIM', () => {
    const r = placeScenario(graphs.get(`${preset}-decode`)!, hw, { batch: 1, kvLen: 1024 });
    expect(devicesOfKind(r, 'linear')).toEqual(new Set(['pim', 'npu']));
    expect(devicesOfKind(r, 'attention')).toEqual(new Set(['pim']));
    const onPim = r.problem.nodes.filter((w, i) => w.kind === 'linear' && r.chosen.assignment[i] === 'pim');
    expect(onPim.reduce((s, w) => s + w.bytes.weights, 0)).toBeLessThanOrEqual(8 * 2 ** 30);
    expect(onPim.length).toBeGreaterThan(r.problem.nodes.filter((w) => w.kind === 'linear').length / 2);
    noneWouldFit(r, 'linear');
    expect(r.binding.notes.join(' ')).toMatch(/pim rows full: 8192 rows per bank/);
  });

  it('decode at batch 64: weight GEMVs on the NPU, attention on PIM as far as its rows hold its caches', () => {
    const r = placeScenario(graphs.get(`${preset}-decode`)!, hw, { batch: 64, kvLen: 1024 });
    expect(devicesOfKind(r, 'linear')).toEqual(new Set(['npu']));
    expect(devicesOfKind(r, 'attention')).toContain('pim');
    noneWouldFit(r, 'attention');
  });

  it('prefill runs on the NPU', () => {
    for (const batch of BATCHES) {
      const r = placeScenario(graphs.get(`${preset}-prefill`)!, hw, { batch, kvLen: 1024 });
      expect(devicesOfKind(r, 'linear')).toEqual(new Set(['npu']));
      expect(devicesOfKind(r, 'attention')).toEqual(new Set(['npu']));
    }
  });
});

describe('the optimal placement against the baselines', () => {
  for (const preset of ['gpt2-small', 'llama2-7b', 'midm-7b']) {
    it(`${preset}: never worse, strictly better than each somewhere (decode and prefill, batch 1-64)`, () => {
      const strictlyBetter = new Map<string, boolean>();
      for (const phase of ['decode', 'prefill']) {
        for (const batch of BATCHES) {
          const r = placeScenario(graphs.get(`${preset}-${phase}`)!, hw, { batch, kvLen: 1024 });
          for (const b of r.baselines) {
            expect(r.chosen.score.total, `${phase} batch ${batch} vs ${b.name}`).toBeLessThanOrEqual(b.score.total * (1 + 1e-12));
            if (r.chosen.score.total < b.score.total * (1 - 1e-6)) strictlyBetter.set(b.name, true);
            else if (!strictlyBetter.has(b.name)) strictlyBetter.set(b.name, false);
          }
        }
      }
      expect(Object.fromEntries(strictlyBetter)).toEqual({ 'all-npu': true, attacc: true, 'all-pim': true });
    });
  }
});

describe('llama2-7b decode with a CXL-PNM expander: the KV cache goes where it fits', () => {
  const cxl = loadHardware('npu+hbm-pim+cxl-pnm');
  it('a short cache fits in HBM beside the weights: attention stays in the PIM banks', () => {
    const r = placeScenario(graphs.get('llama2-7b-decode')!, cxl, { batch: 1, kvLen: 1024 });
    expect(devicesOfKind(r, 'attention')).toEqual(new Set(['pim']));
    expect(r.binding.notes.join(' ')).not.toMatch(/exceed/);
  });

  it('a 32k cache (16 GiB at batch 1, 256 GiB at batch 16) does not: it lives in the expander, attention runs on PNM', () => {
    for (const batch of [1, 16]) {
      const r = placeScenario(graphs.get('llama2-7b-decode')!, cxl, { batch, kvLen: 32768 });
      expect(devicesOfKind(r, 'attention')).toEqual(new Set(['pnm']));
      expect(devicesOfKind(r, 'kv-append')).toEqual(new Set(['pnm']));
      expect(r.binding.notes.join(' ')).toMatch(/KV cache lives in the CXL expander/);
      // PIM cannot hold it
      r.problem.nodes.forEach((w, i) => {
        if (w.kind === 'attention') expect(r.problem.legal[i]).not.toContain('pim');
      });
    }
  });

  it('without an expander the same model is reported as not fitting', () => {
    const r = placeScenario(graphs.get('llama2-7b-decode')!, hw, { batch: 16, kvLen: 32768 });
    expect(r.binding.notes.join(' ')).toMatch(/does not fit this system/);
  });
});
