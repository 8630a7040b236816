// Timing-only simulation (functional: false, docs/runtime.md): every PIM
// stream is timed on one sampled pseudo-channel per distinct stream, without
// data, and the result is exactly the functional run's: the same timeline
// (step by step, to the bit), the same PIM cycles, commands, triggers and
// host bytes. A timing-only step reads no DRAM and writes no bank.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../ir/parser.js';
import { Tensor } from '../../ir/tensor.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import type { Device } from '../../runtime-sim/hardware/types.js';
import type { NpuMemoryApi } from '../../runtime-sim/npu/api.js';
import { newPimState, runPimWork, type PimWork } from '../../runtime-sim/runtime/pim-exec.js';
import type { Graph } from '../../ir/graph.js';
import { overridePimSteps } from '../codegen/pim-steps.js';
import { loadModel } from './model.js';
import { simulateModel, type SimulateReport } from './simulate.js';
import { dense, seededInputs, values } from './testing.js';

const HW = 'npu+hbm-pim';
const models = path.resolve(__dirname, '../../examples/models');
const file = (m: string) => path.join(models, m, 'model.onnx');
const data = (m: string) => path.join(models, m, 'test_data_set_0');
const ON_PIM = new Set(['Linear', 'KvAppend', 'Attention', 'Add', 'Mul', 'Relu']);

/** Memory that fails on any access: a timing-only step must not touch DRAM. */
const untouchable: NpuMemoryApi = new Proxy({ dramBytes: 0, sharedBytes: 0 } as NpuMemoryApi, {
  get(target, key) {
    if (key in target) return target[key as keyof NpuMemoryApi];
    return () => {
      throw new Error(`timing-only PIM step called npu.${String(key)}`);
    };
  },
});

/** The model functional and timing-only; the PIM works of the timing-only run, in step order. */
function both(model: string | (() => Graph), inputs: string | Map<string, Tensor>, placement?: (name: string, type: string) => Device | undefined) {
  const pick = placement && ((op: { name: string; type: string }) => placement(op.name, op.type));
  const graph = () => (typeof model === 'string' ? model : model());
  const functional = simulateModel(graph(), { hw: HW, inputs, ...(pick ? { placement: pick } : {}) });
  const works: PimWork[] = [];
  const restore = overridePimSteps((b) => {
    works.push(b.work);
    return b;
  });
  let timing: SimulateReport;
  try {
    timing = simulateModel(graph(), { hw: HW, inputs, functional: false, ...(pick ? { placement: pick } : {}) });
  } finally {
    restore();
  }
  return { functional, timing, works };
}

function expectSameTime(f: SimulateReport, t: SimulateReport): void {
  expect(t.run.timeline).toEqual(f.run.timeline);
  expect(t.run.secondsByDevice).toEqual(f.run.secondsByDevice);
  expect(t.run.seconds).toBe(f.run.seconds);
  expect(t.run.pim).toEqual(f.run.pim);
  expect(f.run.pim!.cycles).toBeGreaterThan(0);
  expect(t.outputs.size).toBe(0);
}

/** Each work again, timing-only on fresh banks with a memory that throws: the timeline's seconds, no bank row written. */
function expectUntouched(works: readonly PimWork[], t: SimulateReport): void {
  const hw = loadHardware(HW);
  const st = newPimState(hw);
  const pimSteps = t.run.timeline.filter((e) => e.device === 'pim');
  expect(works.length).toBe(pimSteps.length);
  works.forEach((w, i) => expect(runPimWork(w, st, untouchable, hw, { functional: false }).seconds).toBe(pimSteps[i]!.seconds));
  expect(st.stores.every((s) => s.allocatedBytes === 0)).toBe(true);
}


describe('timing-only PIM steps take exactly the functional time', () => {
  it('element-wise ops and a GEMV split over the input dimension (slices)', () => {
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
    const inputs = new Map([['x', Tensor.from('f32', [4, 300], values(1200, 7))], ['y', Tensor.from('f32', [4, 300], values(1200, 11))]]);
    const { functional, timing, works } = both(() => parseGraph(text), inputs, () => 'pim');
    expect(works.map((w) => w.kind).sort()).toEqual(['elementwise', 'elementwise', 'elementwise', 'gemv']);
    const gemv = works.find((w) => w.kind === 'gemv');
    expect(gemv?.kind === 'gemv' && gemv.slices.length).toBeGreaterThan(1);
    expect(functional.run.pim!.hostBytes).toBeGreaterThan(0);
    expectSameTime(functional, timing);
    expectUntouched(works, timing);
  });

  it('KV appends and a GQA attention (batch 2, additive mask)', () => {
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
    const shapes: [string, number[]][] = [['q', [2, 4, 1, 32]], ['pk', [2, 2, 20, 32]], ['pv', [2, 2, 20, 32]], ['nk', [2, 2, 1, 32]], ['nv', [2, 2, 1, 32]], ['mask', [2, 1, 1, 21]]];
    const inputs = seededInputs(shapes, 17);
    const { functional, timing, works } = both(() => parseGraph(text), inputs, () => 'pim');
    expect(works.map((w) => w.kind)).toEqual(['kv-append', 'kv-append', 'attention']);
    expectSameTime(functional, timing);
    expectUntouched(works, timing);
  });

  it('attention on PIM with K and V the host writes (no KvAppend on PIM put them there)', () => {
    const text = `graph "att" {
      opset "" 17
      opset "pimc" 1
      input %q : f32[1, 4, 2, 32]
      input %pk : f32[1, 2, 20, 32]
      input %pv : f32[1, 2, 20, 32]
      input %nk : f32[1, 2, 2, 32]
      input %nv : f32[1, 2, 2, 32]
      %k : f32[1, 2, 22, 32] = pimc.KvAppend(%pk, %nk) {axis = 2}
      %v : f32[1, 2, 22, 32] = pimc.KvAppend(%pv, %nv) {axis = 2}
      %y : f32[1, 4, 2, 32] = pimc.Attention(%q, %k, %v) {causal = 1, scale = 0.17677669}
      output %y
    }`;
    const shapes: [string, number[]][] = [['q', [1, 4, 2, 32]], ['pk', [1, 2, 20, 32]], ['pv', [1, 2, 20, 32]], ['nk', [1, 2, 2, 32]], ['nv', [1, 2, 2, 32]]];
    const inputs = seededInputs(shapes, 41);
    const { functional, timing, works } = both(() => parseGraph(text), inputs, (_, type) => (type === 'Attention' ? 'pim' : 'npu'));
    const att = works.find((w) => w.kind === 'attention');
    expect(att?.kind === 'attention' && [att.kSource, att.vSource]).toEqual(['host', 'host']);
    expect(functional.run.pim!.hostBytes).toBe(2 * 2 * (2 * 22 * 32));
    expectSameTime(functional, timing);
    expectUntouched(works, timing);
  });

  for (const m of ['gpt2_decode', 'llama_dynamic_decode'].filter((x) => fs.existsSync(file(x)))) {
    it(`${m}: optimal placement, and everything PIM runs forced onto it`, () => {
      const opt = both(file(m), data(m));
      expect(opt.works.some((w) => w.kind === 'gemv')).toBe(true);
      expectSameTime(opt.functional, opt.timing);
      expectUntouched(opt.works, opt.timing);
      const fused = loadModel(file(m), { stage: 'fused' }).graph;
      const pins = new Set(fused.ops.filter((op) => ON_PIM.has(op.type)).map((op) => op.name));
      const forced = both(file(m), data(m), (name) => (pins.has(name) ? 'pim' : undefined));
      expect(forced.works.some((w) => w.kind === 'attention')).toBe(true);
      expectSameTime(forced.functional, forced.timing);
      expectUntouched(forced.works, forced.timing);
    });
  }
});
