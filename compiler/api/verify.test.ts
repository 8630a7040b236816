// Every model in the tests, compiled for the NPU alone and simulated (every
// op's kernel executed by the NPU simulator), matches its test data within
// the FP16 tolerance; and the tolerance is not vacuous: outputs of a model
// whose kernels write garbage fail it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyModel } from './verify.js';

const models = path.resolve(__dirname, '../../examples/models');
const names = fs.readdirSync(models).filter((m) => fs.existsSync(path.join(models, m, 'model.onnx'))).sort();

describe('pimc verify --hw npu', () => {
  it('finds every bundled model', () => expect(names.length).toBeGreaterThanOrEqual(7));

  for (const m of names) {
    it(`${m}: every kernel within its bound on its own inputs, every output within depth x 2^-11 x max|expected| of its test data`, () => {
      const { report, sim } = verifyModel(path.join(models, m, 'model.onnx'), { hw: 'npu', inputs: path.join(models, m, 'test_data_set_0'), perOp: true });
      // per op: every op of the model ran on the NPU and was checked against its kernel's stated bound
      expect(sim.perOp!.unchecked).toBe(0);
      for (const op of sim.perOp!.ops) expect(op.ratio, `${op.name} (${op.type})`).toBeLessThanOrEqual(1);
      expect(report.perOp!.firstFailure).toBeNull();
      for (const o of report.outputs) {
        expect(o.against).toBe('test data');
        expect(o.maxAbsError, o.name).toBeLessThanOrEqual(o.tolerance);
        // FP16 storage does leave a trace: the simulator did not just copy the reference
        expect(o.maxAbsError, o.name).toBeGreaterThan(0);
      }
      expect(report.ok).toBe(true);
      expect(report.seconds).toBeGreaterThan(0);
    });
  }
});

describe('a backend bug is caught', () => {
  it('pimc.Gelu storing its result one burst off: verify fails downstream, and the per-op mode names the Gelu', async () => {
    const { overrideLowering } = await import('../../backends/npu/lower/registry.js');
    // the bug: the Gelu kernel's stores land 32 bytes past the output tensor
    const restore = overrideLowering('pimc', 'Gelu', (original) => (ctx) => {
      const p = original(ctx);
      const out = ctx.outputs[0]!;
      const shifted = p.engines.map((list) => list.map((ins) => (ins.op === 'dma.store' && ins.dst.space === 'dram' && ins.dst.addr >= out.addr ? { ...ins, dst: { ...ins.dst, addr: ins.dst.addr + 32 } } : ins)));
      return { ...p, engines: shifted };
    });
    try {
      const m = 'gpt2_prefill';
      const { report } = verifyModel(path.join(models, m, 'model.onnx'), { hw: 'npu', inputs: path.join(models, m, 'test_data_set_0'), perOp: true });
      expect(report.ok).toBe(false);
      const logits = report.outputs.find((o) => o.name === 'logits')!;
      expect(logits.maxAbsError).toBeGreaterThan(logits.tolerance);
      // the per-op mode names the op whose kernel went wrong
      expect(report.perOp!.firstFailure).toMatchObject({ type: 'pimc.Gelu', device: 'npu' });
      expect(report.perOp!.firstFailure!.ratio).toBeGreaterThan(1);
    } finally {
      restore();
    }
  });
});
