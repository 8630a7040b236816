// PIM capacity on a LLaMA-2-7B-shaped decode step (weights left as sparse
// holes: neither placement nor code generation reads them). 12.3 GiB of FP16
// weights do not fit the 8 GiB of rows PIM can execute on (RA12 = 0), so the
// placement keeps on pim only what fits, and the code generator, allocating
// the same rows, succeeds where it ran out of rows (PIMC0703) before.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../examples/builders/index.js';
import type { Graph } from '../../ir/graph.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import type { Device } from '../../runtime-sim/hardware/types.js';
import { analyzeModel } from '../api/analyze.js';
import { loadModel } from '../api/model.js';
import { generateMachine } from '../codegen/hetero.js';
import { runPasses } from '../passes/manager.js';
import { pipeline } from '../passes/pipelines.js';
import { specializeDims } from '../passes/specialize.js';
import { fitPim } from './pim-capacity.js';
import { applyPlacement, placeScenario } from './place.js';

const hw = loadHardware('npu+hbm-pim');
const GIB = 2 ** 30;
let dir = '';
let modelPath = '';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-capacity-'));
  ({ modelPath } = await buildModel({ preset: 'llama2-7b', phase: 'decode', outDir: dir, externalData: 'always', sparseWeights: true }));
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The decode step specialised to batch 1 and 1,024 cached tokens, fused, as simulateModel prepares it. */
function staticDecode(): Graph {
  const g = loadModel(modelPath, { stage: 'onnx' }).graph;
  specializeDims(g, new Map([['batch_size', 1], ['past_sequence_length', 1024]]));
  runPasses(g, pipeline('fuse'));
  return g;
}

describe('llama2-7b decode, batch 1, on npu+hbm-pim', () => {
  it('the placement keeps on pim what fits its rows, says why, and code generation allocates exactly those rows', () => {
    const g = staticDecode();
    const r = placeScenario(g, hw, { batch: 1, kvLen: 0 });
    const a = r.chosen.assignment;
    const fit = fitPim(r.problem, hw, a);
    expect(fit.fits).toBe(true);
    expect(fit.usable).toBe(8192);
    expect(r.binding.notes.join(' ')).toMatch(/pim rows full: 8192 rows per bank for PIM data \(rows 0-4095 and 8192-12287, RA12 = 0\)/);
    // the weights of the linears on pim fit the 8 GiB of PIM rows; the rest (over 4 GiB) stay with the NPU
    const weights = (d: Device) => r.problem.nodes.reduce((s, w, i) => s + (w.kind === 'linear' && a[i] === d ? w.bytes.weights : 0), 0);
    expect(weights('pim')).toBeLessThanOrEqual(8 * GIB);
    expect(weights('pim') + weights('npu')).toBeGreaterThan(12 * GIB);
    expect(weights('npu')).toBeGreaterThan(4 * GIB);

    applyPlacement(r);
    const t0 = performance.now();
    const code = generateMachine(g, hw);
    const seconds = (performance.now() - t0) / 1e3;
    expect(code.pim).toBeDefined();
    const rows = code.pim!.rows;
    expect(rows.usable).toBe(8192);
    // the placement's count is the code generator's, row for row
    expect(rows.resident + rows.perCall).toBe(fit.need);
    expect(rows.resident + rows.perCall).toBeLessThanOrEqual(rows.usable);
    expect(code.steps.filter((s) => s.device === 'pim').length).toBe(a.filter((d) => d === 'pim').length);
    expect(seconds).toBeLessThan(20);
  }, 60_000);

  it('--explain gives the reason on the linears that moved to the NPU', () => {
    const g = loadModel(modelPath, { stage: 'fused' }).graph;
    const { report } = analyzeModel(g, { hw, batches: [1], kvLen: 1024 });
    const s = report.scenarios[0]!;
    const moved = s.ops.filter((o) => o.kind === 'linear' && o.device === 'npu');
    expect(moved.length).toBeGreaterThan(0);
    for (const o of moved) {
      expect(o.reason).toMatch(/^pim rows full \(8192 rows per bank for PIM data, rows 0-4095 and 8192-12287\): on pim it would save .* but its weights need \d+ rows per bank/);
      expect(o.seconds.pim!).toBeLessThan(o.seconds.npu!);
    }
    expect(s.notes.join(' ')).toMatch(/off pim instead: the weights of \d+ linears/);
  });

  it('baselines keep within the rows too; pins that overfill them are reported', () => {
    const g = loadModel(modelPath, { stage: 'fused' }).graph;
    const r = placeScenario(g, hw, { batch: 1, kvLen: 1024 });
    for (const b of r.baselines) expect(fitPim(r.problem, hw, b.assignment).fits, b.name).toBe(true);
    const pins = new Map<string, Device>(r.problem.nodes.filter((w) => w.kind === 'linear').map((w) => [w.op.name, 'pim']));
    const pinned = placeScenario(g, hw, { batch: 1, kvLen: 1024 }, pins);
    expect(pinned.binding.notes.join(' ')).toMatch(/pim rows full: the ops pinned to pim need \d+ rows per bank, more than the 8192/);
  });
});
