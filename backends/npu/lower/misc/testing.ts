// Test helpers for the misc lowerings (imported only by tests; no test
// framework here, so the build may compile it like harness.ts): seeded
// data, the error-bound vocabulary of the tests, and a runner for ops with
// several outputs (harness.ts builds one-output graphs).
//
// Bounds. u = 2^-24 is the fp32 unit roundoff. The reference computes in
// doubles and rounds its result once to f32 (want); the NPU computes in
// fp32 (v) and rounds once to f16 (got). With E a bound on |v - want|:
//   |got - want| <= |f16(v) - v| + |v - want| <= 2^-11 |v| + 2^-25 + E
//                <= 2^-11 |want| + 2^-25 + (1 + 2^-11) E
// (2^-11 |v|: half an f16 ulp for normal values; 2^-25: half the f16
// subnormal spacing). Each test derives E from its op's fp32 arithmetic.

import { ConstantData, Graph, Op, Value } from '../../../../ir/graph.js';
import { Tensor, sizeOf } from '../../../../ir/tensor.js';
import type { DType } from '../../../../ir/dtype.js';
import { inferShapes } from '../../../../compiler/passes/infer-shapes.js';
import { runGraph } from '../../../../compiler/reference/interpreter.js';
import { loadHardware } from '../../../../runtime-sim/hardware/index.js';
import { NpuMemory } from '../../../../runtime-sim/npu/memory.js';
import { runNpu } from '../../../../runtime-sim/npu/sim.js';
import { npuStorage, roundForNpu, worstError, type HarnessAttr } from '../harness.js';
import { loweringFor } from '../registry.js';
import type { DramTensor, LowerContext } from '../types.js';
import '../index.js';

export const U = 2 ** -24;
export const gamma = (n: number): number => (n * U) / (1 - n * U);

/** The bound on |got - want| given E = bound on |v - want| (header). */
export const f16Bound = (want: number, E = 0): number => 2 ** -11 * Math.abs(want) + 2 ** -25 + (1 + 2 ** -11) * E;

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

/**
 * An op with `outputs` outputs through its lowering and the simulator, beside
 * the reference, from f16-rounded inputs (harness.ts's runOpOnNpu for
 * several outputs). Inputs listed in `consts` become graph constants.
 */
export function runMulti(type: string, domain: string, inputs: readonly (Tensor | null)[], attrs: Record<string, HarnessAttr>, outputs: number, consts: number[] = []): { got: Tensor[]; want: Tensor[] } {
  const hw = loadHardware('npu');
  const rounded = inputs.map((t) => (t ? roundForNpu(t) : null));
  const g = new Graph('npu_multi', new Map([['', 23], ['pimc', 1]]));
  const vals = rounded.map((t, i) => {
    if (!t) return null;
    const v = new Value(`in${i}`, { dtype: t.dtype, shape: [...t.shape] });
    return consts.includes(i) ? g.addConstant(v, ConstantData.of(t)) : g.addInput(v);
  });
  const outs = Array.from({ length: outputs }, (_, i) => new Value(`out${i}`));
  const attrMap = new Map(Object.entries(attrs).map(([k, v]) => [k, typeof v === 'number' ? (Number.isInteger(v) ? { kind: 'int' as const, value: v } : { kind: 'float' as const, value: v }) : Array.isArray(v) ? { kind: 'ints' as const, value: v } : typeof v === 'string' ? { kind: 'string' as const, value: v } : v]));
  const op = g.addOp(new Op({ name: 'n', type, domain, inputs: vals, outputs: outs, attrs: attrMap }));
  g.outputs.push(...outs);
  inferShapes(g);
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
  return { got, want: op.outputs.map((v) => ref.outputs.get(v.name)!) };
}
