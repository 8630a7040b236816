// The DRAM plan keeps a KV cache in place: a past cache that only a KV
// append on the NPU (or PIM) reads lives inside the append's output, so the
// append moves only the new keys and the two caches do not both take DRAM;
// the results are those of the copying append, bit for bit.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../api/compile.js';
import { simulateModel } from '../api/simulate.js';
import { loadModel } from '../api/model.js';

const models = path.resolve(__dirname, '../../examples/models');
const m = 'llama_dynamic_decode';
const file = path.join(models, m, 'model.onnx');
const data = path.join(models, m, 'test_data_set_0');

describe('KV caches in place', () => {
  it('past_* is a strided view of the first keys of its present_*; the append program moves only the new keys', () => {
    const c = compileModel(file, { hw: 'npu', inputs: data });
    const appends = c.graph.ops.filter((op) => op.type === 'KvAppend');
    expect(appends.length).toBeGreaterThan(0);
    for (const op of appends) {
      const past = c.code.dram.tensors.get(op.inputs[0]!)!;
      const present = c.code.dram.tensors.get(op.outputs[0]!)!;
      expect(past.addr).toBe(present.addr);
      expect(past.strides).toBeDefined();
      const step = c.code.steps.find((s) => s.device === 'npu' && s.op === op)!;
      if (step.device !== 'npu') throw new Error('unreachable');
      // every DMA of the program touches only the new keys: [b, h, 1, d] of f16 in, out
      const [b, h, , d] = present.shape as number[];
      const loads = step.program.engines.flat().filter((ins) => ins.op === 'dma.load');
      const moved = loads.reduce((n, ins) => n + (ins.op === 'dma.load' ? ins.src.shape.reduce((a, x) => a * x, 1) : 0), 0);
      expect(moved).toBe(b! * h! * 1 * d!);
    }
  });

  it('each in-place append takes what the placement estimates for it (within [0.8, 1.25])', async () => {
    const { analyzeOps } = await import('../analysis/op-costs.js');
    const { CostModel } = await import('../placement/cost-model.js');
    const { runNpu } = await import('../../runtime-sim/npu/sim.js');
    const { NpuMemory } = await import('../../runtime-sim/npu/memory.js');
    const c = compileModel(file, { hw: 'npu', inputs: data });
    const works = analyzeOps(c.graph, { phase: 'decode', batch: 1, kvLen: 0, env: new Map(), batchScale: 1, notes: [] });
    const cost = new CostModel(c.hw);
    for (const s of c.code.steps) {
      if (s.device !== 'npu' || s.op.type !== 'KvAppend') continue;
      const sim = runNpu(s.program, new NpuMemory(c.hw), { hw: c.hw, functional: false }).seconds;
      const est = cost.estimate(works.find((w) => w.op === s.op)!, 'npu').seconds;
      expect(sim / est, s.op.name).toBeGreaterThanOrEqual(0.8);
      expect(sim / est, s.op.name).toBeLessThanOrEqual(1.25);
    }
  });

  it('the outputs equal, bit for bit, those of a plan without it (every cache copied)', async () => {
    const inPlace = simulateModel(file, { hw: 'npu', inputs: data });
    // the same model with each past cache read by a second op as well: the plan then copies it
    const g = loadModel(file, { stage: 'onnx' }).graph;
    const { Op } = await import('../../ir/graph.js');
    for (const v of g.inputs.filter((x) => /past/.test(x.name))) {
      const out = g.newValue(`${v.name}_seen`);
      g.addOp(new Op({ name: `${v.name}_Identity`, type: 'Identity', domain: '', inputs: [v], outputs: [out], attrs: new Map() }));
      g.outputs.push(out);
    }
    const copied = simulateModel(g, { hw: 'npu', inputs: data });
    for (const [name, t] of inPlace.outputs) expect(Array.from(copied.outputs.get(name)!.data), name).toEqual(Array.from(t.data));
    // and the in-place plan is faster: the appends no longer copy the past
    expect(inPlace.run.seconds).toBeLessThan(copied.run.seconds);
  });
});
