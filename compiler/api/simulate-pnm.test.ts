// Issue [5/6]: the decode models in the tests with attention (and the KV
// append feeding it) on the CXL-PNM engine, the rest on the NPU: the machine
// runtime copies q, the cache and the new token over the link, runs the PNM
// descriptors on the PNM simulator, copies the context back, and every
// output stays within the FP16 tolerance of the test data (depth x 2^-11 x
// max|expected|, compiler/api/verify.ts), and every kernel, PNM and NPU,
// within its own stated bound on the inputs it was given (per-op mode).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyModel } from './verify.js';
import { loadModel } from './model.js';

const models = path.resolve(__dirname, '../../examples/models');
const decode = fs.readdirSync(models).filter((m) => /decode/.test(m)).sort();

describe('decode models with attention on CXL-PNM', () => {
  it('finds the decode models', () => expect(decode.length).toBeGreaterThanOrEqual(3));

  for (const m of decode) {
    it(`${m}: attention and KV appends on pnm, outputs within tolerance`, () => {
      const file = path.join(models, m, 'model.onnx');
      const fused = loadModel(file, { stage: 'fused' }).graph;
      const onPnm = new Map(fused.ops.filter((op) => op.type === 'Attention' || op.type === 'KvAppend').map((op) => [op.name, 'pnm' as const]));
      expect(onPnm.size).toBeGreaterThanOrEqual(2);
      const { report, sim } = verifyModel(file, { hw: 'npu+hbm-pim+cxl-pnm', inputs: path.join(models, m, 'test_data_set_0'), placement: onPnm, perOp: true });
      // every PNM kernel (and NPU kernel) within its stated bound on the inputs it was given
      const pnmOps = sim.perOp!.ops.filter((op) => op.device === 'pnm');
      expect(pnmOps).toHaveLength(onPnm.size);
      for (const op of sim.perOp!.ops) expect(op.ratio, `${op.name} (${op.type} on ${op.device})`).not.toBeNull();
      for (const op of sim.perOp!.ops) expect(op.ratio!, `${op.name} (${op.type} on ${op.device})`).toBeLessThanOrEqual(1);
      expect(report.placement.pnm).toBe(onPnm.size);
      expect(report.secondsByDevice.pnm).toBeGreaterThan(0);
      expect(report.secondsByDevice.link).toBeGreaterThan(0);
      for (const o of report.outputs) expect(o.maxAbsError, o.name).toBeLessThanOrEqual(o.tolerance);
      expect(report.ok).toBe(true);
      // the caches live in the expander: the host writes past_* there and reads present_* there, no link copy carries them
      const carried = sim.run.timeline.filter((e) => e.device === 'link' && /past|present/.test(e.name));
      expect(carried).toEqual([]);
    });
  }
});
