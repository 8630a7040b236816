// Runs one IR op through its NPU lowering and the NPU simulator, next to the
// reference interpreter, for tests and benchmarks. The simulator never calls
// the reference: the harness only puts both results side by side.
//
// API (stable; the misc lowerings' tests use it too):
//
//   runOpOnNpu(type, domain, inputs, attrs?, opts?) -> { got, want, stats, program, rounded }
//     type, domain  the op ('MatMul', '' or 'Linear', 'pimc')
//     inputs        one Tensor per op input, null for an optional input left out
//     attrs         { name: value }: an integer number is an int attribute, a
//                   non-integer number a float one (float attributes accept an
//                   int, so `scale: 1` works), number[] ints, string a string;
//                   or an AttrValue for anything else (see F() for floats).
//     opts.hw       hardware preset or file (default 'npu')
//     opts.consts   input indices made graph constants instead of graph inputs
//     opts.opset    default-domain opset (default 23)
//     opts.outputs  how many outputs the op has (default 1)
//   got      the NPU's outputs, as Tensors of the op's output dtypes (floats
//            come back from f16 storage)
//   want     the reference's outputs (fp32) computed on `rounded`
//   rounded  the inputs as the NPU stores them: floats rounded to f16 (in
//            input order; optional inputs left out are dropped)
//   stats    the simulator's counters; program: what the lowering emitted
//
//   lowerOneOp(type, domain, inputTypes, attrs?, opts?) -> { graph, op, ctx, program }
//     builds the graph and lowers it without data (DRAM placed, nothing
//     written): for benchmarks that run the simulator on sparse zero memory.
//
//   worstError(got, want, bound) -> { ratio, index }: the largest
//     |got - want| / bound(i) over the elements (a ratio <= 1 is within
//     bound; NaN on both sides counts as equal).
//   Also: F(x) a float attribute, npuStorage(dtype) 'f16' | 'i32',
//   roundForNpu(tensor) floats rounded to f16.
//
// DRAM layout: inputs, then outputs, then the lowering's scratch(), each at a
// 4 KiB boundary; floats are stored as f16, integers and bool as i32
// (DramTensor in types.ts).

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
import type { NpuMemoryApi, NpuRunStats, NpuTraceEvent } from '../../../runtime-sim/npu/api.js';
import { NpuMemory } from '../../../runtime-sim/npu/memory.js';
import { runNpu } from '../../../runtime-sim/npu/sim.js';
import type { NpuProgram } from '../instr.js';
import './index.js';
import { loweringFor } from './registry.js';
import type { DramTensor, LowerContext } from './types.js';

export type { HarnessAttr } from '../../common/one-op.js';

export interface HarnessOptions {
  hw?: string;
  consts?: number[];
  opset?: number;
  /** Number of op outputs (default 1). */
  outputs?: number;
  /** Passed to the simulator. */
  trace?: (e: NpuTraceEvent) => void;
}

export interface NpuOpRun {
  got: Tensor[];
  want: Tensor[];
  stats: NpuRunStats;
  program: NpuProgram;
  rounded: Tensor[];
}

export interface LoweredOp {
  graph: Graph;
  op: Op;
  ctx: LowerContext;
  program: NpuProgram;
}

export { F } from '../../common/one-op.js';

const DRAM_ALIGN = 4096;
const HW_CACHE = new Map<string, Hardware>();

function hardware(name: string): Hardware {
  let hw = HW_CACHE.get(name);
  if (!hw) HW_CACHE.set(name, (hw = loadHardware(name)));
  return hw;
}


/** The NPU's storage type for an IR dtype. */
export const npuStorage = (d: DType): 'f16' | 'i32' => (isFloat(d) ? 'f16' : 'i32');

/** Floats rounded to f16, as the NPU stores them; other tensors unchanged. */
export const roundForNpu = roundToF16;

/** A one-op graph: inputs become graph inputs (or constants with `consts`), shapes inferred. */

function concreteShape(t: TensorType | undefined, what: string): number[] {
  if (!t || t.shape.some((d) => typeof d !== 'number')) fail('PIMC1102', `${what} has no concrete shape; the NPU lowering needs one`);
  return t.shape as number[];
}

/** Places the op's tensors in DRAM and lowers it (no data written). */
export function lowerOneOp(type: string, domain: string, inputs: readonly (TensorType | Tensor | null)[], attrs: Record<string, HarnessAttr> = {}, opts: HarnessOptions = {}): LoweredOp {
  const hw = hardware(opts.hw ?? 'npu');
  if (!hw.npu) fail('PIMC1102', `hardware ${q(hw.name)} has no NPU`);
  const { graph, op } = oneOpGraph('npu_one_op', type, domain, inputs, attrs, opts);
  let next = 0;
  const place = (bytes: number): number => {
    const a = next;
    next += Math.ceil(Math.max(bytes, 1) / DRAM_ALIGN) * DRAM_ALIGN;
    return a;
  };
  const tensor = (t: TensorType, what: string): DramTensor => {
    const shape = concreteShape(t, what);
    const dtype = npuStorage(t.dtype);
    return { addr: place(sizeOf(shape) * (dtype === 'f16' ? 2 : 4)), dtype, shape };
  };
  const ins = op.inputs.map((v, i) => (v ? tensor(v.type!, `input ${i} of ${q(op.name)}`) : null));
  const outs = op.outputs.map((v, i) => tensor(v.type!, `output ${i} of ${q(op.name)}`));
  const ctx: LowerContext = { hw, npu: hw.npu, op, inputs: ins, outputs: outs, scratch: place };
  const program = loweringFor(domain, type, op.name)(ctx);
  return { graph, op, ctx, program };
}

function writeTensor(mem: NpuMemoryApi, d: DramTensor, t: Tensor): void {
  if (d.dtype === 'f16') mem.writeF16(d.addr, t.data);
  else mem.writeI32(d.addr, Array.from(t.data as ArrayLike<number>, (x) => Math.trunc(x)));
}

function readTensor(mem: NpuMemoryApi, d: DramTensor, dtype: DType): Tensor {
  const n = sizeOf(d.shape);
  const raw = d.dtype === 'f16' ? mem.readF16(d.addr, n) : mem.readI32(d.addr, n);
  return Tensor.from(dtype, d.shape, raw);
}

/** The op on the NPU simulator and on the reference, from the same f16-rounded inputs. */
export function runOpOnNpu(type: string, domain: string, inputs: readonly (Tensor | null)[], attrs: Record<string, HarnessAttr> = {}, opts: HarnessOptions = {}): NpuOpRun {
  const rounded = inputs.map((t) => (t ? roundForNpu(t) : null));
  const lowered = lowerOneOp(type, domain, rounded, attrs, opts);
  const { graph, op, ctx, program } = lowered;

  const feeds = new Map<string, Tensor>();
  op.inputs.forEach((v, i) => {
    if (v && !v.constant) feeds.set(v.name, rounded[i]!);
  });
  const ref = runGraph(graph, feeds);
  const want = op.outputs.map((v) => ref.outputs.get(v.name)!);

  const mem = new NpuMemory(ctx.hw);
  ctx.inputs.forEach((d, i) => {
    if (d) writeTensor(mem, d, rounded[i]!);
  });
  const stats = runNpu(program, mem, { hw: ctx.hw, ...(opts.trace ? { trace: opts.trace } : {}) });
  const got = ctx.outputs.map((d, i) => readTensor(mem, d, op.outputs[i]!.type!.dtype));
  return { got, want, stats, program, rounded: rounded.filter((t): t is Tensor => t !== null) };
}

/** The worst |got - want| / bound(i); NaN on one side only, or a mismatched infinity, counts as Infinity. */
export function worstError(got: Tensor, want: Tensor, bound: (i: number) => number): { ratio: number; index: number } {
  if (got.size !== want.size) throw new Error(`internal: ${got.size} elements against ${want.size}`);
  let ratio = 0, index = -1;
  for (let i = 0; i < got.size; i++) {
    const g = got.data[i]!, w = want.data[i]!;
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
    const e = Number.isFinite(g) && Number.isFinite(w) ? Math.abs(g - w) / bound(i) : Infinity;
    if (!(e <= ratio)) {
      ratio = Number.isNaN(e) ? Infinity : e;
      index = i;
    }
  }
  return { ratio, index };
}
