// The machine runtime with ops on HBM-PIM (docs/runtime.md): Linear, KV
// appends, attention and element-wise ops run as the PIM backend's command
// streams on the PIM simulator, over banks that keep weights and KV caches
// for the whole run; every output stays within the FP16 tolerance of the test
// data (depth x 2^-11 x max|expected|, compiler/api/verify.ts), and a fault
// injected in the PIM path breaks it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../ir/parser.js';
import { Tensor } from '../../ir/tensor.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import type { Device } from '../../runtime-sim/hardware/types.js';
import type { PimLoad } from '../../runtime-sim/runtime/pim-exec.js';
import { isAlias } from '../codegen/dram-plan.js';
import { overridePimSteps } from '../codegen/pim-steps.js';
import { loadModel } from './model.js';
import { simulateModel } from './simulate.js';
import { dense, values } from './testing.js';
import { opDepths, verifyModel, type VerifyReport } from './verify.js';

const models = path.resolve(__dirname, '../../examples/models');
const all = fs.readdirSync(models).filter((m) => fs.existsSync(path.join(models, m, 'model.onnx'))).sort();
const decode = all.filter((m) => /decode/.test(m));
const others = all.filter((m) => !/decode/.test(m));
const HW = 'npu+hbm-pim';
const ON_PIM = new Set(['Linear', 'KvAppend', 'Attention', 'Add', 'Mul', 'Relu']);

const file = (m: string) => path.join(models, m, 'model.onnx');
const data = (m: string) => path.join(models, m, 'test_data_set_0');

/** Every op PIM runs, placed there (names after fusion, as the placement sees them). */
function forced(m: string): Map<string, Device> {
  const fused = loadModel(file(m), { stage: 'fused' }).graph;
  return new Map(fused.ops.filter((op) => ON_PIM.has(op.type)).map((op) => [op.name, 'pim' as const]));
}

function expectWithin(report: VerifyReport): void {
  for (const o of report.outputs) {
    expect(o.against).toBe('test data');
    expect(o.maxAbsError, o.name).toBeLessThanOrEqual(o.tolerance);
    expect(o.maxAbsError, `${o.name}: FP16 leaves a trace`).toBeGreaterThan(0);
  }
  expect(report.ok).toBe(true);
}

describe('decode models on npu+hbm-pim', () => {
  it('finds the decode models', () => expect(decode.length).toBeGreaterThanOrEqual(3));

  for (const m of decode) {
    it(`${m}, optimal placement: Linear and KV appends run in the banks, outputs within tolerance`, () => {
      const { report, sim } = verifyModel(file(m), { hw: HW, inputs: data(m), perOp: true });
      const on = (type: string) => sim.graph.ops.filter((op) => op.type === type).map((op) => op.device);
      // per op: every GEMV and KV append in the banks within its FP16 bound on the inputs it read (backends/hbm-pim/bounds.ts)
      const pimChecked = sim.perOp!.ops.filter((op) => op.device === 'pim' && op.ratio !== null);
      expect(pimChecked.length).toBe(sim.graph.ops.filter((op) => op.device === 'pim' && !isAlias(op)).length);
      for (const op of sim.perOp!.ops) if (op.ratio !== null) expect(op.ratio, `${op.name} (${op.type} on ${op.device})`).toBeLessThanOrEqual(1);
      expect(report.perOp!.firstFailure).toBeNull();
      // at batch 1 every weight GEMV is memory-bound: the placement puts it in the banks
      expect(on('Linear').length).toBeGreaterThan(0);
      expect(on('Linear').every((d) => d === 'pim')).toBe(true);
      expect(on('KvAppend').every((d) => d === 'pim')).toBe(true);
      expect(report.secondsByDevice.pim).toBeGreaterThan(0);
      expect(sim.run.pim!.cycles).toBeGreaterThan(0);
      expect(sim.run.pim!.triggers).toBeGreaterThan(0);
      expectWithin(report);
    });

    it(`${m}, attention forced onto PIM too: scores and context in the banks, outputs within tolerance`, () => {
      const pins = forced(m);
      expect([...pins.keys()].length).toBeGreaterThan(4);
      const { report, sim } = verifyModel(file(m), { hw: HW, inputs: data(m), placement: pins });
      const attention = sim.graph.ops.filter((op) => op.type === 'Attention');
      expect(attention.length).toBeGreaterThan(0);
      expect(attention.every((op) => op.device === 'pim')).toBe(true);
      // (specialising the dims may fold away a pinned op of the dynamic models' shape arithmetic)
      const pinned = sim.graph.ops.filter((op) => pins.has(op.name));
      expect(pinned.every((op) => op.device === 'pim')).toBe(true);
      expect(report.placement.pim).toBe(pinned.length);
      // a PIM step's time is its streams' cycles plus the host's transfers
      const pim = sim.run.timeline.filter((t) => t.device === 'pim');
      expect(pim.length).toBe(pinned.length);
      expect(pim.every((t) => t.seconds > 0)).toBe(true);
      expectWithin(report);
    });
  }
});

describe('prefill models on npu+hbm-pim', () => {
  for (const m of others) {
    it(`${m}: optimal placement and everything PIM can run forced onto it, outputs within tolerance`, () => {
      expectWithin(verifyModel(file(m), { hw: HW, inputs: data(m) }).report);
      const pins = forced(m);
      const { report, sim } = verifyModel(file(m), { hw: HW, inputs: data(m), placement: pins });
      expect(report.placement.pim).toBe(sim.graph.ops.filter((op) => pins.has(op.name)).length);
      expectWithin(report);
    });
  }
});


/** Every op on pim; each output within depth x 2^-11 x max|reference| of the reference interpreter. */
function simulateOnPim(text: string, inputs: Map<string, Tensor>) {
  const sim = simulateModel(parseGraph(text), { hw: HW, inputs, placement: () => 'pim' });
  const d = opDepths(sim.graph);
  for (const v of sim.graph.outputs) {
    const got = sim.outputs.get(v.name)!;
    const want = sim.reference.get(v.name)!;
    let err = 0;
    let scale = 0;
    for (let i = 0; i < want.size; i++) {
      err = Math.max(err, Math.abs(got.data[i]! - want.data[i]!));
      scale = Math.max(scale, Math.abs(want.data[i]!));
    }
    expect(err, v.name).toBeLessThanOrEqual(d.get(v)! * 2 ** -11 * scale);
    expect(err, v.name).toBeGreaterThan(0);
  }
  return sim;
}


describe('ops on PIM, one by one', () => {
  it('Add with a broadcast constant, Relu, Mul, MatMul with a constant weight (split over the input dimension)', () => {
    const text = `graph "ew" {
      opset "" 17
      input %x : f32[4, 300]
      input %y : f32[4, 300]
      const %c : f32[300] = ${dense(values(300, 3))}
      const %w : f32[300, 40] = ${dense(values(12000, 5))}
      %a : f32[4, 300] = Add(%x, %c)
      %r : f32[4, 300] = Relu(%a)
      %m : f32[4, 300] = Mul(%r, %y)
      %o : f32[4, 40] = MatMul(%m, %w)
      output %o, %r
    }`;
    const sim = simulateOnPim(text, new Map([['x', Tensor.from('f32', [4, 300], values(1200, 7))], ['y', Tensor.from('f32', [4, 300], values(1200, 11))]]));
    expect(sim.placement.pim).toBe(4);
    // the element-wise steps pay the host's writes and reads outside their streams
    // (bytes of the operands that are not constants, and of the result: Add, Relu, Mul)
    expect(sim.run.pim!.hostBytes).toBe(2 * 1200 * ((1 + 1) + (1 + 1) + (2 + 1)));
  });

  it('batch-2 decode step with GQA, an additive mask and the cache in the banks', () => {
    const text = `graph "kv" {
      opset "" 17
      opset "pimc" 1
      input %q : f32[2, 4, 1, 32]
      input %pk : f32[2, 2, 20, 32]
      input %pv : f32[2, 2, 20, 32]
      input %nk : f32[2, 2, 1, 32]
      input %nv : f32[2, 2, 1, 32]
      input %mask : f32[2, 1, 1, 21]
      %k : f32[2, 2, 21, 32] = pimc.KvAppend(%pk, %nk) {axis = 2}
      %v : f32[2, 2, 21, 32] = pimc.KvAppend(%pv, %nv) {axis = 2}
      %y : f32[2, 4, 1, 32] = pimc.Attention(%q, %k, %v, %mask) {mask_mode = "add", scale = 0.17677669}
      output %y, %k, %v
    }`;
    const mask = values(42, 13).map((x, i) => (i % 21 === 3 ? -10000 : x));
    const feeds = new Map([
      ['q', Tensor.from('f32', [2, 4, 1, 32], values(256, 17))],
      ['pk', Tensor.from('f32', [2, 2, 20, 32], values(2560, 19))],
      ['pv', Tensor.from('f32', [2, 2, 20, 32], values(2560, 23))],
      ['nk', Tensor.from('f32', [2, 2, 1, 32], values(128, 29))],
      ['nv', Tensor.from('f32', [2, 2, 1, 32], values(128, 31))],
      ['mask', Tensor.from('f32', [2, 1, 1, 21], mask)],
    ]);
    const sim = simulateOnPim(text, feeds);
    // K and V were in the banks already: the attention step charges no host transfer
    expect(sim.run.pim!.hostBytes).toBe(0);
  });

  it('runs out of PIM rows with a coded error naming the op', () => {
    const base = loadHardware(HW);
    const hbm = { ...base.memory.hbm!, rowsPerBank: 8 };
    const hw = { ...base, memory: { ...base.memory, hbm } };
    const m = 'gpt2_decode';
    // the optimal placement keeps within the PIM rows (compiler/placement/pim-capacity.ts): force every op PIM runs onto it
    expect(() => simulateModel(file(m), { hw, inputs: data(m), placement: (op) => (ON_PIM.has(op.type) ? 'pim' : undefined) })).toThrow(/PIMC0703: op ".*" needs \d+ rows per bank/);
  });
});

describe('a fault in the PIM path is caught', () => {
  const shiftRows = <T extends { rowBase: number }>(p: T): T => ({ ...p, rowBase: p.rowBase + 2 });

  it('one Linear\'s weights laid out two rows off the rows its stream reads (a wrong bank offset): verify fails, the per-op mode names that Linear', () => {
    // the bug hits the third GEMV in program order only
    let gemvs = 0;
    let broken = '';
    const restore = overridePimSteps((b) => {
      if (b.work.kind !== 'gemv' || ++gemvs !== 3) return b;
      broken = b.op.name;
      return { ...b, loads: b.loads.map((l): PimLoad => (l.kind === 'gemv-weights' ? { ...l, plan: shiftRows(l.plan) } : l)) };
    });
    try {
      const m = 'gpt2_decode';
      const { report } = verifyModel(file(m), { hw: HW, inputs: data(m), perOp: true });
      expect(report.ok).toBe(false);
      const logits = report.outputs.find((o) => o.name === 'logits')!;
      expect(logits.maxAbsError).toBeGreaterThan(logits.tolerance);
      expect(broken).not.toBe('');
      expect(report.perOp!.firstFailure).toMatchObject({ name: broken, device: 'pim', type: 'pimc.Linear' });
    } finally {
      restore();
    }
  });

  it('the past KV cache laid out two rows off: the logits fail, the present caches (host copies) do not', () => {
    const restore = overridePimSteps((b) => ({
      ...b,
      loads: b.loads.map((l): PimLoad => (l.kind === 'kv'
        ? { ...l, plans: l.plans.map((p) => ({ ...p, heads: p.heads.map((h) => ({ ...h, k: shiftRows(h.k), v: shiftRows(h.v) })) })) }
        : l)),
    }));
    try {
      const m = 'llama_dynamic_decode';
      const { report } = verifyModel(file(m), { hw: HW, inputs: data(m), placement: forced(m) });
      const logits = report.outputs.find((o) => o.name === 'logits')!;
      expect(logits.maxAbsError).toBeGreaterThan(logits.tolerance);
      expect(report.outputs.find((o) => o.name === 'present_key_0')!.ok).toBe(true);
    } finally {
      restore();
    }
  });
});
