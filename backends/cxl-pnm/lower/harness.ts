// Runs one IR op through its PNM lowering and the PNM simulator, next to the
// reference interpreter, for tests and benchmarks. The simulator never calls
// the reference: the harness only puts both results side by side.
//
//   runOpOnPnm(type, domain, inputs, attrs?, opts?) -> { got, want, stats, program, rounded }
//     inputs   one Tensor per op input, null for an optional input left out;
//              floats are rounded to f16 first (rounded), and the reference
//              runs on the rounded values
//     attrs    { name: value }: an integer number is an int attribute, a
//              non-integer a float one (F(1) forces a float), number[] ints,
//              string a string, or an AttrValue
//     opts.hw       hardware preset or file (default npu+hbm-pim+cxl-pnm)
//     opts.padded   { input index: allocated shape }: the input is a prefix
//                   view of a larger buffer (a KV cache with spare capacity)
//     opts.inPlace  { output index: input index }: the output shares that
//                   input's (padded) buffer and strides (KvAppend in place)
//     opts.functional false: time only, nothing computed (got is zeros)
//   lowerOnePnmOp(type, domain, inputTypes, attrs?, opts?) -> { graph, op, ctx, program }
//     places and lowers without data: for benchmarks on sparse zero memory.
//   runPnmBounded(type, domain, inputs, attrs?, opts?) -> runOpOnPnm's, plus
//     { op, stored, opset, worst }: worst = worstPnmBoundRatio against the
//     op's error bound (backends/cxl-pnm/bounds/) on the same stored inputs
//     (worst.ratio <= 1 is within bound). For the lowerings' tests.
//
// Device layout: inputs, then outputs, then the lowering's scratch, each at
// a 4 KiB boundary; floats as f16, integers and bool as i32 (PnmTensor).

import { isFloat, type DType } from '../../../ir/dtype.js';
import { fail, q } from '../../../ir/diagnostics.js';
import type { Graph, Op } from '../../../ir/graph.js';
import { Tensor, sizeOf } from '../../../ir/tensor.js';
import type { TensorType } from '../../../ir/types.js';
import { oneOpGraph, roundToF16, type HarnessAttr } from '../../common/one-op.js';
import '../../../ir/ops/index.js';
import { runGraph } from '../../../compiler/reference/interpreter.js';
import { loadHardware } from '../../../runtime-sim/hardware/index.js';
import type { Hardware } from '../../../runtime-sim/hardware/types.js';
import type { PnmRunStats } from '../../../runtime-sim/pnm/api.js';
import { PnmMemory } from '../../../runtime-sim/pnm/memory.js';
import { runPnm } from '../../../runtime-sim/pnm/sim.js';
import type { ChromeTrace } from '../../../runtime-sim/trace/chrome-trace.js';
import type { PnmProgram } from '../instr.js';
import { worstPnmBoundRatio, type PnmBoundCheck } from '../bounds/index.js';
import './index.js';
import { contiguous, stridesOf } from './nest.js';
import { pnmLoweringFor } from './registry.js';
import type { PnmLowerContext, PnmTensor } from './types.js';

export type { HarnessAttr } from '../../common/one-op.js';

export interface PnmHarnessOptions {
  hw?: string;
  consts?: number[];
  opset?: number;
  padded?: Record<number, number[]>;
  inPlace?: Record<number, number>;
  functional?: boolean;
  trace?: ChromeTrace;
}

export interface PnmOpRun {
  got: Tensor[];
  want: Tensor[];
  stats: PnmRunStats;
  program: PnmProgram;
  rounded: Tensor[];
}

export interface LoweredPnmOp {
  graph: Graph;
  op: Op;
  ctx: PnmLowerContext;
  program: PnmProgram;
}

export { F } from '../../common/one-op.js';

const ALIGN = 4096;
const HW_CACHE = new Map<string, Hardware>();
const hardware = (name: string): Hardware => HW_CACHE.get(name) ?? HW_CACHE.set(name, loadHardware(name)).get(name)!;


/** Floats rounded to f16, as the expander stores them; other tensors unchanged. */
export const roundForPnm = roundToF16;


function concrete(t: TensorType | undefined, what: string): number[] {
  if (!t || t.shape.some((d) => typeof d !== 'number')) fail('PIMC1206', `${what} has no concrete shape; the PNM lowering needs one`);
  return t.shape as number[];
}

/** Places the op's tensors in device memory and lowers it (no data written). */
export function lowerOnePnmOp(type: string, domain: string, inputs: readonly (TensorType | Tensor | null)[], attrs: Record<string, HarnessAttr> = {}, opts: PnmHarnessOptions = {}): LoweredPnmOp {
  const hw = hardware(opts.hw ?? 'npu+hbm-pim+cxl-pnm');
  if (!hw.pnm) fail('PIMC1206', `hardware ${q(hw.name)} has no CXL-PNM device`);
  const { graph, op } = oneOpGraph('pnm_one_op', type, domain, inputs, attrs, opts);
  let next = 0;
  const place = (bytes: number): number => {
    const a = next;
    next += Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    return a;
  };
  const storage = (d: DType): 'f16' | 'i32' => (isFloat(d) ? 'f16' : 'i32');
  const ins = op.inputs.map((v, i): PnmTensor | null => {
    if (!v) return null;
    const shape = concrete(v.type, `input ${i} of ${q(op.name)}`);
    const dtype = storage(v.type!.dtype);
    const buf = opts.padded?.[i] ?? shape;
    if (buf.length !== shape.length || buf.some((d, k) => d < shape[k]!)) throw new Error(`internal: padded shape [${buf.join(', ')}] of input ${i} is smaller than [${shape.join(', ')}]`);
    return { addr: place(sizeOf(buf) * (dtype === 'f16' ? 2 : 4)), dtype, shape, strides: contiguous(buf) };
  });
  const outs = op.outputs.map((v, i): PnmTensor => {
    const shape = concrete(v.type, `output ${i} of ${q(op.name)}`);
    const dtype = storage(v.type!.dtype);
    const src = opts.inPlace?.[i];
    if (src !== undefined) {
      const t = ins[src]!;
      const cap = opts.padded?.[src] ?? t.shape;
      if (shape.some((d, k) => d > cap[k]!)) throw new Error(`internal: output ${i} [${shape.join(', ')}] does not fit input ${src}'s buffer`);
      return { addr: t.addr, dtype, shape, strides: stridesOf(t) };
    }
    return { addr: place(sizeOf(shape) * (dtype === 'f16' ? 2 : 4)), dtype, shape, strides: contiguous(shape) };
  });
  const ctx: PnmLowerContext = { hw, pnm: hw.pnm, op, inputs: ins, outputs: outs, opset: opts.opset ?? 23, scratch: place };
  const program = pnmLoweringFor(domain, type, op.name)(ctx);
  return { graph, op, ctx, program };
}

/** Byte address of every element of a (strided) tensor, row-major. */
function addrs(t: PnmTensor): number[] {
  const s = stridesOf(t), e = t.dtype === 'f16' ? 2 : 4;
  let out = [t.addr];
  t.shape.forEach((d, k) => {
    out = out.flatMap((a) => Array.from({ length: d }, (_, i) => a + i * s[k]! * e));
  });
  return out;
}

const isDense = (d: PnmTensor) => stridesOf(d).every((s, i) => d.shape[i] === 1 || s === contiguous(d.shape)[i]);

function writeTensor(mem: PnmMemory, d: PnmTensor, t: Tensor): void {
  if (isDense(d)) return d.dtype === 'f16' ? mem.writeF16(d.addr, t.data) : mem.writeI32(d.addr, Array.from(t.data as ArrayLike<number>, (x) => Math.trunc(x)));
  addrs(d).forEach((a, i) => (d.dtype === 'f16' ? mem.writeF16(a, [t.data[i]!]) : mem.writeI32(a, [Math.trunc(Number(t.data[i]!))])));
}

function readTensor(mem: PnmMemory, d: PnmTensor, dtype: DType): Tensor {
  if (isDense(d)) return Tensor.from(dtype, d.shape, d.dtype === 'f16' ? mem.readF16(d.addr, sizeOf(d.shape)) : mem.readI32(d.addr, sizeOf(d.shape)));
  const vals = addrs(d).map((a) => (d.dtype === 'f16' ? mem.readF16(a, 1)[0]! : mem.readI32(a, 1)[0]!));
  return Tensor.from(dtype, d.shape, vals);
}

/** The op on the PNM simulator and on the reference, from the same f16-rounded inputs. */
export function runOpOnPnm(type: string, domain: string, inputs: readonly (Tensor | null)[], attrs: Record<string, HarnessAttr> = {}, opts: PnmHarnessOptions = {}): PnmOpRun {
  const rounded = inputs.map((t) => (t ? roundForPnm(t) : null));
  const { graph, op, ctx, program } = lowerOnePnmOp(type, domain, rounded, attrs, opts);
  const feeds = new Map<string, Tensor>();
  op.inputs.forEach((v, i) => {
    if (v && !v.constant) feeds.set(v.name, rounded[i]!);
  });
  const ref = runGraph(graph, feeds);
  const want = op.outputs.map((v) => ref.outputs.get(v.name)!);
  const mem = new PnmMemory(ctx.hw);
  ctx.inputs.forEach((d, i) => {
    if (d) writeTensor(mem, d, rounded[i]!);
  });
  const stats = runPnm(program, mem, { hw: ctx.hw, ...(opts.trace ? { trace: opts.trace } : {}), ...(opts.functional === false ? { functional: false } : {}) });
  const got = ctx.outputs.map((d, i) => readTensor(mem, d, op.outputs[i]!.type!.dtype));
  return { got, want, stats, program, rounded: rounded.filter((t): t is Tensor => t !== null) };
}

/** A run with the op as built, its inputs as stored (floats f16-rounded, nulls kept in place), the opset, and the worst element against the op's bound. */
export interface PnmBoundedRun extends PnmOpRun {
  op: Op;
  stored: (Tensor | null)[];
  opset: number;
  worst: PnmBoundCheck;
}

/** runOpOnPnm, plus worstPnmBoundRatio (backends/cxl-pnm/bounds/) on the same stored inputs. */
export function runPnmBounded(type: string, domain: string, inputs: readonly (Tensor | null)[], attrs: Record<string, HarnessAttr> = {}, opts: PnmHarnessOptions = {}): PnmBoundedRun {
  const run = runOpOnPnm(type, domain, inputs, attrs, opts);
  const stored = inputs.map((t) => (t ? roundForPnm(t) : null));
  const { op } = oneOpGraph('pnm_one_op', type, domain, stored, attrs, opts);
  const opset = opts.opset ?? 23;
  return { ...run, op, stored, opset, worst: worstPnmBoundRatio(op, stored, run.got, run.want, opset) };
}

/** The worst element of a bounded run, for assertion messages. */
export const describeWorst = (w: PnmBoundCheck): string =>
  w.index < 0 ? 'every element equal' : `worst at output ${w.output} element ${w.index} (got ${w.got}, want ${w.want}, bound ${w.bound}, ratio ${w.ratio})`;

/** A tensor of `shape` with values uniform in [lo, hi) from a seeded generator (mulberry32): same seed, same tensor. */
export function randomTensor(shape: readonly number[], seed: number, lo = -1, hi = 1, dtype: DType = 'f32'): Tensor {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Tensor.from(dtype, shape, Array.from({ length: sizeOf(shape) }, () => lo + (hi - lo) * next()));
}

/** The worst |got - want| / bound(i) (a ratio <= 1 is within bound); NaN or a mismatched infinity counts as Infinity. */
export function worstError(got: Tensor, want: Tensor, bound: (i: number) => number): { ratio: number; index: number } {
  if (got.size !== want.size) throw new Error(`internal: ${got.size} elements against ${want.size}`);
  let ratio = 0, index = -1;
  for (let i = 0; i < got.size; i++) {
    const g = got.data[i]!, w = want.data[i]!;
    if (g === w) continue;
    const e = Number.isFinite(g) && Number.isFinite(w) ? Math.abs(g - w) / bound(i) : Infinity;
    if (!(e <= ratio)) {
      ratio = Number.isNaN(e) ? Infinity : e;
      index = i;
    }
  }
  return { ratio, index };
}
