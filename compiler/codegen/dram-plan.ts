// Memory planning for the NPU's DRAM: every value of a static graph (inputs,
// constants, op outputs) gets a contiguous, row-major DramTensor, floats as
// f16 and integers/bool as i32 (the NPU's storage types), and lowerings get
// scratch space after them.
//
// 1. Visit inputs, constants, then op outputs in program order.
// 2. A view op (reshape-like: the same bytes in the same order) aliases its
//    input: its output is the input's tensor with the new shape, and no
//    program runs for it (what the cost model assumes).
// 3. A KV cache input whose only reader is a KvAppend on the NPU or on PIM
//    lives inside that append's output: the present cache is allocated, and
//    the past is a strided view of its first keys (the host writes it there),
//    so the append writes only the new keys, in place, as a decode runtime
//    keeps its cache; and the past and present caches do not both take DRAM.
// 4. Bump-allocate everything else at an ALIGN boundary. Nothing is reused
//    yet: a value lives for the whole run, which keeps every intermediate
//    inspectable (the per-op checks read them) at the price of DRAM, which is
//    plentiful.

import { fail, q } from '../../ir/diagnostics.js';
import { isFloat } from '../../ir/dtype.js';
import type { Graph, Op, Value } from '../../ir/graph.js';
import { kindOf } from '../analysis/kinds.js';
import { sizeOf, stridesOf } from '../../ir/tensor.js';
import type { DramTensor } from '../../backends/npu/lower/types.js';

/** Alignment of every tensor: a DRAM burst multiple, so tiles start on bursts. */
export const ALIGN = 256;

export interface DramPlan {
  tensors: Map<Value, DramTensor>;
  /** Bytes used so far (tensors and scratch). */
  bytes(): number;
  /** Scratch for a lowering's intermediates. */
  scratch(bytes: number): number;
}

export function staticShape(v: Value): number[] {
  const s = v.type?.shape;
  if (!s || s.some((d) => typeof d !== 'number')) {
    fail('PIMC1102', `value ${q(v.name)} has shape [${s?.join(', ') ?? '?'}]; the NPU needs static shapes (specialise the model's dims first)`);
  }
  return s as number[];
}

/** Hands out addresses from 0 up, each a multiple of `align` (at least one unit per request); `used` is the end so far. */
export function bumpAllocator(align: number): { take: (bytes: number) => number; used: () => number } {
  let next = 0;
  return {
    take: (bytes) => {
      const at = next;
      next += Math.ceil(Math.max(bytes, 1) / align) * align;
      return at;
    },
    used: () => next,
  };
}

export function planDram(g: Graph): DramPlan {
  const { take, used } = bumpAllocator(ALIGN);
  const tensors = new Map<Value, DramTensor>();
  const place = (v: Value) => {
    if (tensors.has(v)) return;
    const shape = staticShape(v);
    const dtype = isFloat(v.type!.dtype) ? 'f16' : 'i32';
    tensors.set(v, { addr: take(sizeOf(shape) * (dtype === 'f16' ? 2 : 4)), dtype, shape });
  };
  const inPlace = inPlaceAppends(g);
  g.inputs.filter((v) => !inPlace.has(v)).forEach(place);
  g.constants.forEach(place);
  for (const op of g.ops) {
    const src = isAlias(op) ? tensors.get(op.inputs[0]!) : undefined;
    if (src) tensors.set(op.outputs[0]!, { addr: src.addr, dtype: src.dtype, shape: staticShape(op.outputs[0]!) });
    else op.outputs.forEach(place);
    const past = op.inputs[0];
    if (past && inPlace.get(past) === op) {
      const present = tensors.get(op.outputs[0]!)!;
      tensors.set(past, { addr: present.addr, dtype: present.dtype, shape: staticShape(past), strides: stridesOf(present.shape) });
    }
  }
  return { tensors, bytes: used, scratch: take };
}

/** Graph inputs whose only reader is a KvAppend on the NPU or on PIM appending to them (step 3), with that append. */
function inPlaceAppends(g: Graph): Map<Value, Op> {
  const out = new Map<Value, Op>();
  const users = g.users();
  for (const v of g.inputs) {
    const readers = users.get(v) ?? [];
    const op = readers[0];
    if (readers.length !== 1 || !op || op.domain !== 'pimc' || op.type !== 'KvAppend' || !['npu', 'pim'].includes(op.device ?? 'npu')) continue;
    if (op.inputs[0] !== v || op.inputs[1] === v || g.outputs.includes(v)) continue;
    out.set(v, op);
  }
  return out;
}

/** Reshape-like ops whose output is their first input's bytes, reinterpreted. */
export function isAlias(op: Op): boolean {
  return kindOf(op) === 'view' && op.outputs.length === 1 && !!op.inputs[0] && op.inputs[0].type?.dtype === op.outputs[0]!.type?.dtype;
}
