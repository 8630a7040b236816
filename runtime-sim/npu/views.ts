// Geometry of strided views (instr.ts View): the bytes a view touches, as
// contiguous runs. Timing counts bursts per run (timing.ts); hazard checks
// intersect footprints exactly (hazards.ts), so two column tiles of one
// row-major matrix, interleaved in memory, do not count as overlapping.

import { DTYPE_BYTES, type View } from '../../backends/npu/instr.js';

/** A byte range [start, start + bytes). */
export interface Run {
  start: number;
  bytes: number;
}

/** Lowest and one-past-highest byte the view touches (strides may be negative or 0). */
export function extent(v: View): { lo: number; hi: number } {
  const e = DTYPE_BYTES[v.dtype];
  let lo = 0;
  let hi = 0;
  for (let d = 0; d < 3; d++) {
    const span = v.strides[d]! * (v.shape[d]! - 1);
    if (span < 0) lo += span;
    else hi += span;
  }
  return { lo: v.addr + lo * e, hi: v.addr + (hi + 1) * e };
}

/**
 * Contiguous runs in iteration order: inner dims whose stride equals the
 * elements already in a run merge into it (size-1 dims are skipped); the
 * remaining outer dims give one run each. Broadcast (stride 0) dims repeat
 * runs: a DMA reading the same row twice moves it twice.
 */
export function runs(v: View): Run[] {
  const e = DTYPE_BYTES[v.dtype];
  const dims: { n: number; s: number }[] = [];
  for (let d = 2; d >= 0; d--) if (v.shape[d]! !== 1) dims.push({ n: v.shape[d]!, s: v.strides[d]! });
  let len = 1;
  let k = 0;
  while (k < dims.length && dims[k]!.s === len) len *= dims[k++]!.n;
  const outer = dims.slice(k).reverse(); // outermost first
  const out: Run[] = [];
  const bytes = len * e;
  const walk = (depth: number, base: number) => {
    if (depth === outer.length) {
      out.push({ start: v.addr + base * e, bytes });
      return;
    }
    const { n, s } = outer[depth]!;
    for (let i = 0; i < n; i++) walk(depth + 1, base + i * s);
  };
  walk(0, 0);
  return out;
}

/**
 * The same set of elements walked in address order: dims sorted by stride
 * (negative strides flipped, broadcast and size-1 dims dropped). A set of
 * bytes does not depend on the walk, and this walk merges the most (a
 * transposed matrix is one run instead of one per element).
 */
function addressOrder(v: View): View {
  let addr = v.addr;
  const e = DTYPE_BYTES[v.dtype];
  const dims: { n: number; s: number }[] = [];
  for (let d = 0; d < 3; d++) {
    const n = v.shape[d]!;
    let st = v.strides[d]!;
    if (n === 1 || st === 0) continue;
    if (st < 0) {
      addr += st * (n - 1) * e;
      st = -st;
    }
    dims.push({ n, s: st });
  }
  dims.sort((a, b) => b.s - a.s); // outermost (largest stride) first
  while (dims.length < 3) dims.unshift({ n: 1, s: 0 });
  return { ...v, addr, shape: dims.map((d) => d.n) as View['shape'], strides: dims.map((d) => d.s) as View['strides'] };
}

/** The set of bytes touched: runs sorted and merged. */
export function footprint(v: View): Run[] {
  const r = runs(addressOrder(v)).sort((a, b) => a.start - b.start);
  const out: Run[] = [];
  for (const x of r) {
    const last = out[out.length - 1];
    if (last && x.start <= last.start + last.bytes) last.bytes = Math.max(last.bytes, x.start + x.bytes - last.start);
    else out.push({ ...x });
  }
  return out;
}

/** The first byte range two footprints share, or undefined. */
export function overlap(a: readonly Run[], b: readonly Run[]): Run | undefined {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const lo = Math.max(x.start, y.start);
    const hi = Math.min(x.start + x.bytes, y.start + y.bytes);
    if (lo < hi) return { start: lo, bytes: hi - lo };
    if (x.start + x.bytes <= y.start + y.bytes) i++;
    else j++;
  }
  return undefined;
}

/** Byte address of every element in row-major order over the shape. */
export function addresses(v: View): Float64Array {
  const [d0, d1, d2] = v.shape;
  const e = DTYPE_BYTES[v.dtype];
  const [s0, s1, s2] = [v.strides[0] * e, v.strides[1] * e, v.strides[2] * e];
  const out = new Float64Array(d0 * d1 * d2);
  let k = 0;
  for (let i = 0; i < d0; i++) {
    for (let j = 0; j < d1; j++) {
      const base = v.addr + i * s0 + j * s1;
      for (let l = 0; l < d2; l++) out[k++] = base + l * s2;
    }
  }
  return out;
}

export const shapeText = (v: View): string => `[${v.shape.join(',')}]`;
export const hexAddr = (a: number): string => `0x${a.toString(16)}`;
