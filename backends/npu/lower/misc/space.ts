// Iteration spaces over strided DRAM operands, and how they are cut into
// tiles. Every element-wise, row-wise and movement lowering describes its op
// as one space (the output's shape, or a permutation of it) and, per operand,
// element strides over that space: 0 where an input broadcasts, permuted
// strides for a transpose, a step for a slice, an offset for a concat part.
//
// 1. Dims of size 1 are dropped; adjacent dims merge when every operand walks
//    them as one (stride[i] = stride[i+1] * size[i+1]); a broadcast add of a
//    bias over [4096, 768] stays 2-D, a plain add becomes 1-D.
// 2. The last three dims form a tile [a, b, c]: c takes as much of the last
//    dim as fits, b and a grow only while the dims inside them are whole, so
//    a tile is one strided 3-D view of every operand (a DMA descriptor).
//    Dims before those are looped over one index at a time.
// 3. A dim split into n chunks gets chunks of equal size (ceil(d / n)).

import { DTYPE_BYTES, type NpuDtype, type View } from '../../instr.js';
import type { DramTensor } from '../types.js';
import { sizeOf, stridesOf } from '../../../../ir/tensor.js';

/** An operand of a space: DRAM byte address of index 0, element strides per dim of the space. */
export interface Operand {
  addr: number;
  dtype: NpuDtype;
  strides: number[];
}

/** A tensor broadcast into `shape` (numpy rules: trailing dims align, size 1 repeats). */
export function bcast(t: DramTensor, shape: readonly number[]): Operand {
  const off = shape.length - t.shape.length;
  const st = contiguous(t.shape);
  return { addr: t.addr, dtype: t.dtype, strides: shape.map((_, i) => (i < off || t.shape[i - off] === 1 ? 0 : st[i - off]!)) };
}

/** A tensor in its own shape (or any shape of the same size, e.g. a reshape). */
export function whole(t: DramTensor, shape: readonly number[] = t.shape): Operand {
  return { addr: t.addr, dtype: t.dtype, strides: contiguous(shape) };
}

/** Row-major strides in elements (the IR's stridesOf, under the name the lowerings read best). */
export const contiguous = stridesOf;

export { sizeOf };

/** Step 1 of the header. keepLast: the last dim is a row (never dropped nor merged). */
export function collapse(shape: readonly number[], ops: readonly Operand[], keepLast: boolean): { shape: number[]; strides: number[][] } {
  const dims: number[] = [];
  const strides: number[][] = ops.map(() => []);
  shape.forEach((d, i) => {
    if (d === 1 && !(keepLast && i === shape.length - 1)) return;
    dims.push(d);
    ops.forEach((o, k) => strides[k]!.push(o.strides[i]!));
  });
  // Merge from the inside out; with keepLast the last dim stays on its own.
  for (let i = dims.length - 2; i >= 0; i--) {
    if (keepLast && i === dims.length - 2) continue;
    const n = dims[i + 1]!;
    if (!strides.every((s) => s[i] === s[i + 1]! * n)) continue;
    dims[i] = dims[i]! * n;
    dims.splice(i + 1, 1);
    for (const s of strides) s.splice(i, 1);
  }
  // Always at least three dims (leading 1s with stride 0).
  while (dims.length < 3) {
    dims.unshift(1);
    for (const s of strides) s.unshift(0);
  }
  return { shape: dims, strides };
}

/** How a collapsed space is cut: chunk sizes of the three tile dims and the count of steps. */
export interface Tiling {
  shape: number[];
  /** Chunk size of the last three dims. */
  chunk: [number, number, number];
  counts: [number, number, number];
  /** Number of outer indices (product of the dims before the last three). */
  outer: number;
  steps: number;
}

function chunkOf(d: number, t: number): [number, number] {
  const n = Math.ceil(d / Math.max(1, Math.min(t, d)));
  return [Math.ceil(d / n), n];
}

/** Step 2 of the header: tiles of at most maxElems elements (a row op passes maxElems >= its row, so rows stay whole). */
export function tileSpace(shape: readonly number[], maxElems: number): Tiling {
  const k = shape.length;
  const [d0, d1, d2] = [shape[k - 3]!, shape[k - 2]!, shape[k - 1]!];
  const [c, nc] = chunkOf(d2, maxElems);
  const [b, nb] = nc === 1 ? chunkOf(d1, Math.floor(maxElems / c)) : [1, d1];
  const [a, na] = nc === 1 && nb === 1 ? chunkOf(d0, Math.floor(maxElems / (b * c))) : [1, d0];
  const outer = sizeOf(shape.slice(0, k - 3));
  const empty = shape.some((d) => d === 0);
  return { shape: [...shape], chunk: [a, b, c], counts: [na, nb, nc], outer, steps: empty ? 0 : outer * na * nb * nc };
}

/** Where step i starts (element index per dim) and its extents in the three tile dims. */
export function stepAt(t: Tiling, i: number): { index: number[]; ext: [number, number, number] } {
  const k = t.shape.length;
  const [na, nb, nc] = t.counts;
  let r = i;
  const jc = r % nc; r = Math.floor(r / nc);
  const jb = r % nb; r = Math.floor(r / nb);
  const ja = r % na; r = Math.floor(r / na);
  const index = new Array<number>(k).fill(0);
  for (let d = k - 4; d >= 0; d--) {
    index[d] = r % t.shape[d]!;
    r = Math.floor(r / t.shape[d]!);
  }
  const js = [ja, jb, jc];
  const ext = [0, 0, 0] as [number, number, number];
  for (let m = 0; m < 3; m++) {
    const d = t.shape[k - 3 + m]!;
    const start = js[m]! * t.chunk[m]!;
    index[k - 3 + m] = start;
    ext[m] = Math.min(t.chunk[m]!, d - start);
  }
  return { index, ext };
}

export const bytesOf = (dtype: NpuDtype): number => DTYPE_BYTES[dtype];

/** Byte address of an operand at an index of the space. */
export function addrAt(addr: number, dtype: NpuDtype, strides: readonly number[], index: readonly number[]): number {
  let off = 0;
  index.forEach((x, d) => (off += x * strides[d]!));
  return addr + off * bytesOf(dtype);
}

/** A 3-D view (shape = the last three dims' extents). */
export function view3(space: View['space'], addr: number, dtype: NpuDtype, shape: readonly number[], strides: readonly number[]): View {
  return { space, addr, dtype, shape: [shape[0]!, shape[1]!, shape[2]!], strides: [strides[0]!, strides[1]!, strides[2]!] };
}

/** Compact row-major strides of a 3-D shape, 0 where `bcast` says the operand repeats. */
export function compact3(shape: readonly number[], bcast: readonly boolean[] = [false, false, false]): [number, number, number] {
  const s: [number, number, number] = [shape[1]! * shape[2]!, shape[2]!, 1];
  if (bcast[2]) s[2] = 0;
  if (bcast[1]) s[1] = 0;
  if (bcast[0]) s[0] = 0;
  return s;
}
