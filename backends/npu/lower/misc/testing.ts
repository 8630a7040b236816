// Test helpers for the NPU lowerings' tests (imported only by tests; no test
// framework here, so the build may compile it like harness.ts): seeded data,
// a runner that puts the registry's error bound beside a run (runBounded),
// one for ops with several outputs (harness.ts builds one-output graphs), and
// assertions against a bound.
//
// Bounds: backends/npu/bounds/ (one definition per op type, the derivations
// beside them; common.ts for f16Bound). The tests only run ops and compare.

import { ConstantData, Graph, Op, Value } from '../../../../ir/graph.js';
import { Tensor, sizeOf } from '../../../../ir/tensor.js';
import type { DType } from '../../../../ir/dtype.js';
import { inferShapes } from '../../../../compiler/passes/infer-shapes.js';
import { runGraph } from '../../../../compiler/reference/interpreter.js';
import { loadHardware } from '../../../../runtime-sim/hardware/index.js';
import { NpuMemory } from '../../../../runtime-sim/npu/memory.js';
import { runNpu } from '../../../../runtime-sim/npu/sim.js';
import { npuBound, type ElementBound } from '../../bounds/index.js';
import { npuStorage, roundForNpu, runOpOnNpu, worstError, type HarnessAttr, type HarnessOptions, type NpuOpRun } from '../harness.js';
import { loweringFor } from '../registry.js';
import type { DramTensor, LowerContext } from '../types.js';
import '../index.js';

/** mulberry32: a small seeded generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [lo, hi). */
export function uniform(shape: readonly number[], seed: number, lo = -2, hi = 2, dtype: DType = 'f32'): Tensor {
  const r = rng(seed);
  return Tensor.from(dtype, shape, Array.from({ length: sizeOf(shape) }, () => lo + (hi - lo) * r()));
}

export function ints(shape: readonly number[], seed: number, below: number, dtype: DType = 'i64'): Tensor {
  const r = rng(seed);
  return Tensor.from(dtype, shape, Array.from({ length: sizeOf(shape) }, () => Math.floor(below * r())));
}

/** Asserts every element within its bound; names the worst one otherwise. */
function sameShape(got: Tensor, want: Tensor, what: string): void {
  if (got.shape.join() !== want.shape.join()) throw new Error(`${what}: shape [${got.shape.join(', ')}], want [${want.shape.join(', ')}]`);
}

export function expectWithin(got: Tensor, want: Tensor, bound: (i: number) => number, what = ''): void {
  sameShape(got, want, what);
  const { ratio, index } = worstError(got, want, bound);
  if (ratio > 1) {
    throw new Error(`${what}: element ${index}: got ${got.data[index]}, want ${want.data[index]}, bound ${bound(index)} (ratio ${ratio})`);
  }
}

/** Bit-for-bit equal values (movement ops). */
export function expectExact(got: Tensor, want: Tensor, what = ''): void {
  sameShape(got, want, what);
  for (let i = 0; i < got.size; i++) {
    const [g, w] = [got.data[i]!, want.data[i]!];
    if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) throw new Error(`${what}: element ${i}: got ${g}, want ${w}`);
  }
}

/** The one-op graph harness.ts builds: inputs as graph inputs (constants with `consts`), shapes inferred. */
function oneOpGraph(type: string, domain: string, inputs: readonly (Tensor | null)[], attrs: Record<string, HarnessAttr>, opts: HarnessOptions): { graph: Graph; op: Op } {
  const g = new Graph('npu_one_op', new Map([['', opts.opset ?? 23], ['pimc', 1]]));
  const vals = inputs.map((t, i) => {
    if (!t) return null;
    const v = new Value(`in${i}`, { dtype: t.dtype, shape: [...t.shape] });
    return opts.consts?.includes(i) ? g.addConstant(v, ConstantData.of(t)) : g.addInput(v);
  });
  const outs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => new Value(`out${i}`));
  const attrMap = new Map(Object.entries(attrs).map(([k, v]) => [k, typeof v === 'number' ? (Number.isInteger(v) ? { kind: 'int' as const, value: v } : { kind: 'float' as const, value: v }) : Array.isArray(v) ? { kind: 'ints' as const, value: v } : typeof v === 'string' ? { kind: 'string' as const, value: v } : v]));
  const op = g.addOp(new Op({ name: 'n', type, domain, inputs: vals, outputs: outs, attrs: attrMap }));
  g.outputs.push(...outs);
  inferShapes(g);
  return { graph: g, op };
}

/** A run with the op as built, its inputs as stored (floats f16-rounded, nulls kept in place) and the registry's bound. */
export interface Bounded {
  got: Tensor[];
  want: Tensor[];
  stored: (Tensor | null)[];
  op: Op;
  bound: ElementBound;
}

/** harness.ts runOpOnNpu, plus the op's error bound from backends/npu/bounds/ on the same stored inputs. */
export function runBounded(type: string, domain: string, inputs: readonly (Tensor | null)[], attrs: Record<string, HarnessAttr> = {}, opts: HarnessOptions = {}): NpuOpRun & Bounded {
  const run = runOpOnNpu(type, domain, inputs, attrs, opts);
  const stored = inputs.map((t) => (t ? roundForNpu(t) : null));
  const { op } = oneOpGraph(type, domain, stored, attrs, opts);
  return { ...run, stored, op, bound: npuBound(op, stored, run.want) };
}

/** Every output within the registry's bound (expectWithin per output). */
export function expectBound(r: Bounded, what = ''): void {
  r.got.forEach((g, k) => expectWithin(g, r.want[k]!, (i) => r.bound(k, i), r.got.length > 1 ? `${what} output ${k}` : what));
}

/**
 * An op with `outputs` outputs through its lowering and the simulator, beside
 * the reference, from f16-rounded inputs (harness.ts's runOpOnNpu for
 * several outputs), with the registry's bound. Inputs listed in `consts`
 * become graph constants.
 */
export function runMulti(type: string, domain: string, inputs: readonly (Tensor | null)[], attrs: Record<string, HarnessAttr>, outputs: number, consts: number[] = []): Bounded {
  const hw = loadHardware('npu');
  const rounded = inputs.map((t) => (t ? roundForNpu(t) : null));
  const { graph: g, op } = oneOpGraph(type, domain, rounded, attrs, { outputs, consts });
  let next = 0;
  const place = (bytes: number) => { const a = next; next += Math.ceil(Math.max(bytes, 1) / 4096) * 4096; return a; };
  const tensor = (v: Value): DramTensor => {
    const shape = v.type!.shape as number[];
    const dtype = npuStorage(v.type!.dtype);
    return { addr: place(sizeOf(shape) * (dtype === 'f16' ? 2 : 4)), dtype, shape };
  };
  const ctx: LowerContext = { hw, npu: hw.npu!, op, inputs: op.inputs.map((v) => (v ? tensor(v) : null)), outputs: op.outputs.map(tensor), scratch: place };
  const program = loweringFor(domain, type, op.name)(ctx);
  const feeds = new Map<string, Tensor>();
  op.inputs.forEach((v, i) => { if (v && !v.constant) feeds.set(v.name, rounded[i]!); });
  const ref = runGraph(g, feeds);
  const mem = new NpuMemory(hw);
  ctx.inputs.forEach((d, i) => {
    if (!d) return;
    if (d.dtype === 'f16') mem.writeF16(d.addr, rounded[i]!.data);
    else mem.writeI32(d.addr, Array.from(rounded[i]!.data as ArrayLike<number>, Math.trunc));
  });
  runNpu(program, mem, { hw });
  const got = ctx.outputs.map((d, i) => {
    const n = sizeOf(d.shape);
    return Tensor.from(op.outputs[i]!.type!.dtype, d.shape, d.dtype === 'f16' ? mem.readF16(d.addr, n) : mem.readI32(d.addr, n));
  });
  const want = op.outputs.map((v) => ref.outputs.get(v.name)!);
  return { got, want, stored: rounded, op, bound: npuBound(op, rounded, want) };
}
