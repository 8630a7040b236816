// Tensor-table views (instr.ts TensorEntry): element counts, byte extents,
// footprints, and gathering / scattering their elements in row-major order.

import { DTYPE_BYTES, type TensorEntry } from '../../backends/cxl-pnm/instr.js';
import type { PnmMemory } from './memory.js';

export const elementCount = (e: TensorEntry): number => e.dims.reduce((a, b) => a * b, 1);

/** The bytes [lo, hi) a view can touch (empty views touch nothing: lo = hi). */
export function extent(e: TensorEntry): { lo: number; hi: number } {
  const size = DTYPE_BYTES[e.dtype];
  if (elementCount(e) === 0) return { lo: e.addr, hi: e.addr };
  let lo = 0, hi = 0;
  e.dims.forEach((d, i) => {
    const reach = (d - 1) * e.strides[i]!;
    if (reach < 0) lo += reach;
    else hi += reach;
  });
  return { lo: e.addr + lo * size, hi: e.addr + (hi + 1) * size };
}

/**
 * Distinct bytes a view reads or writes, assuming distinct indices along
 * non-broadcast dims address distinct elements: a stride-0 (broadcast) dim
 * is fetched once and reused from SRAM.
 */
export function footprint(e: TensorEntry): number {
  return e.dims.reduce((a, d, i) => a * (e.strides[i] === 0 ? 1 : d), DTYPE_BYTES[e.dtype]);
}

export const overlaps = (a: { lo: number; hi: number }, b: { lo: number; hi: number }): boolean => a.lo < b.hi && b.lo < a.hi;

/** `len` indices of dim `dim` from `start`: a sub-view. */
export function subView(e: TensorEntry, dim: number, start: number, len: number): TensorEntry {
  const dims = [...e.dims];
  dims[dim] = len;
  return { ...e, addr: e.addr + start * e.strides[dim]! * DTYPE_BYTES[e.dtype], dims, strides: [...e.strides] };
}

/** Calls f(byteAddress, i) for every element in row-major order. */
export function forEachAddr(e: TensorEntry, f: (addr: number, i: number) => void): void {
  const pad = 4 - e.dims.length;
  const d = [...new Array<number>(pad).fill(1), ...e.dims];
  const size = DTYPE_BYTES[e.dtype];
  const s = [...new Array<number>(pad).fill(0), ...e.strides].map((x) => x * size);
  let i = 0;
  for (let a = 0; a < d[0]!; a++) {
    for (let b = 0; b < d[1]!; b++) {
      for (let c = 0; c < d[2]!; c++) {
        let addr = e.addr + a * s[0]! + b * s[1]! + c * s[2]!;
        for (let x = 0; x < d[3]!; x++, addr += s[3]!) f(addr, i++);
      }
    }
  }
}

/** The view's values (f16 widened exactly) in row-major order. */
export function gather(mem: PnmMemory, e: TensorEntry): Float64Array {
  const out = new Float64Array(elementCount(e));
  const dt = e.dtype;
  forEachAddr(e, (addr, i) => {
    out[i] = mem.get(addr, dt);
  });
  return out;
}

/** Stores values (row-major) into the view, each rounded to its dtype. */
export function scatter(mem: PnmMemory, e: TensorEntry, values: ArrayLike<number>): void {
  const dt = e.dtype;
  forEachAddr(e, (addr, i) => mem.set(addr, dt, values[i]!));
}

/** Copies src into dst element by element (same dims): bits when the dtypes agree, else values rounded to dst's dtype. */
export function copyView(mem: PnmMemory, src: TensorEntry, dst: TensorEntry): void {
  if (src.dtype === dst.dtype) {
    const size = DTYPE_BYTES[src.dtype];
    const bits = new Uint32Array(elementCount(src));
    forEachAddr(src, (addr, i) => {
      bits[i] = mem.getRaw(addr, size);
    });
    forEachAddr(dst, (addr, i) => mem.setRaw(addr, size, bits[i]!));
  } else {
    scatter(mem, dst, gather(mem, src));
  }
}
