// Loop nests over strided operands: how the lowerings turn IR tensors into
// tensor-table views of at most 4 dims and split them over the units.
//
// A Nest is one iteration space (dims) and, per operand, a base address and
// a stride per dim (0 broadcasts). The output is operand 0 by convention.

import { fail } from '../../../ir/diagnostics.js';
import { DTYPE_BYTES, type PnmDtype, type TensorEntry } from '../instr.js';
import { MAX_RANK } from '../isa.js';
import type { PnmTensor } from './types.js';

export interface Operand {
  addr: number;
  dtype: PnmDtype;
  strides: number[];
}

export interface Nest {
  dims: number[];
  ops: Operand[];
}

/** [start, len] per dim. */
export type Box = [number, number][];

export const contiguous = (shape: readonly number[]): number[] =>
  shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

export const stridesOf = (t: PnmTensor): number[] => [...(t.strides ?? contiguous(t.shape))];

export const operand = (t: PnmTensor): Operand => ({ addr: t.addr, dtype: t.dtype, strides: stridesOf(t) });

/** t broadcast to `shape` (numpy rules, right-aligned): size-1 and missing dims get stride 0; undefined if it does not broadcast. */
export function broadcastOperand(t: PnmTensor, shape: readonly number[]): Operand | undefined {
  const off = shape.length - t.shape.length;
  if (off < 0) return undefined;
  const s = stridesOf(t);
  const strides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = i < off ? 1 : t.shape[i - off]!;
    if (d !== shape[i] && d !== 1) return undefined;
    strides.push(i < off || (d === 1 && shape[i] !== 1) ? 0 : s[i - off]!);
  }
  return { addr: t.addr, dtype: t.dtype, strides };
}

/**
 * Fewer, longer dims, same elements in the same order: drops size-1 dims and
 * merges dim i into i+1 when every operand steps over dim i exactly as over
 * a whole run of dim i+1. The last `fixed` dims are kept as they are (a
 * row op's row).
 */
export function coalesce(n: Nest, fixed = 0): Nest {
  const r = n.dims.length;
  const keep = n.dims.map((d, i) => d !== 1 || i >= r - fixed);
  let dims = n.dims.filter((_, i) => keep[i]);
  let ops = n.ops.map((o) => ({ ...o, strides: o.strides.filter((_, i) => keep[i]) }));
  for (let i = dims.length - fixed - 2; i >= 0; i--) {
    if (ops.every((o) => o.strides[i] === o.strides[i + 1]! * dims[i + 1]!)) {
      dims = [...dims.slice(0, i), dims[i]! * dims[i + 1]!, ...dims.slice(i + 2)];
      ops = ops.map((o) => ({ ...o, strides: [...o.strides.slice(0, i), o.strides[i + 1]!, ...o.strides.slice(i + 2)] }));
    }
  }
  if (!dims.length) return { dims: [1], ops: ops.map((o) => ({ ...o, strides: [0] })) };
  return { dims, ops };
}

/**
 * The dims from `from` on merged into one (a row op's row), or undefined when
 * some operand does not walk them as one run (size-1 dims are ignored).
 */
export function mergeTail(n: Nest, from: number): Nest | undefined {
  const tail = n.dims.map((_, i) => i).filter((i) => i >= from && n.dims[i] !== 1);
  const len = n.dims.slice(from).reduce((a, b) => a * b, 1);
  const ops: Operand[] = [];
  for (const o of n.ops) {
    for (let k = 0; k + 1 < tail.length; k++) {
      const [i, j] = [tail[k]!, tail[k + 1]!];
      if (o.strides[i] !== o.strides[j]! * n.dims[j]!) return undefined;
    }
    const last = tail[tail.length - 1];
    ops.push({ ...o, strides: [...o.strides.slice(0, from), last === undefined ? 0 : o.strides[last]!] });
  }
  return { dims: [...n.dims.slice(0, from), len], ops };
}

/** The nest with its dims reordered: new dim i is old dim order[i]. */
export const permute = (n: Nest, order: readonly number[]): Nest => ({
  dims: order.map((i) => n.dims[i]!),
  ops: n.ops.map((o) => ({ ...o, strides: order.map((i) => o.strides[i]!) })),
});

/** Nests of at most `maxRank` dims: leading dims beyond it are enumerated (each index a nest of its own). */
export function peel(n: Nest, maxRank = MAX_RANK): Nest[] {
  if (n.dims.length <= maxRank) return [n];
  return Array.from({ length: n.dims[0]! }, (_, i) =>
    peel({ dims: n.dims.slice(1), ops: n.ops.map((o) => ({ ...o, addr: o.addr + i * o.strides[0]! * DTYPE_BYTES[o.dtype], strides: o.strides.slice(1) })) }, maxRank)).flat();
}

/**
 * At most `parts` boxes covering `dims`, splitting only the `splittable`
 * dims: the largest first, into near-equal chunks, then the next largest
 * while boxes are still fewer than parts.
 */
export function splitBox(dims: readonly number[], splittable: readonly number[], parts: number): Box[] {
  let boxes: Box[] = [dims.map((d) => [0, d] as [number, number])];
  const order = [...splittable].sort((a, b) => dims[b]! - dims[a]! || a - b);
  for (const d of order) {
    const k = Math.min(dims[d]!, Math.floor(parts / boxes.length));
    if (k <= 1) break;
    boxes = boxes.flatMap((b) => {
      const [s0, len] = b[d]!;
      return Array.from({ length: k }, (_, i) => {
        const lo = s0 + Math.floor((i * len) / k), hi = s0 + Math.floor(((i + 1) * len) / k);
        const nb = b.map((x) => [...x] as [number, number]);
        nb[d] = [lo, hi - lo];
        return nb;
      });
    });
  }
  return boxes;
}

/** The table entry of an operand over a box of the nest (the whole nest by default). */
export function entryOf(o: Operand, dims: readonly number[], box?: Box): TensorEntry {
  const b = box ?? dims.map((d) => [0, d] as [number, number]);
  const off = b.reduce((a, [s], i) => a + s * o.strides[i]!, 0);
  if (b.length > MAX_RANK) throw new Error(`internal: a ${b.length}-D view`);
  return { addr: o.addr + off * DTYPE_BYTES[o.dtype], dtype: o.dtype, dims: b.map(([, l]) => l), strides: [...o.strides] };
}

/** A PIMC1206 for `opName`. */
export function unsupported(opName: string, type: string, what: string): never {
  return fail('PIMC1206', `op ${JSON.stringify(opName)} (${type}): ${what}; place it on the NPU`);
}
