// Strided matrices in DRAM and their tiles in the scratchpad.
//
// A MatRef names a 2-D matrix by element strides (rs between rows, cs between
// columns), so a transposed operand or a broadcast one (stride 0) is a
// different MatRef over the same bytes, never a copy. loadTile moves a tile
// in the orientation that makes DRAM runs contiguous (a transposed matrix is
// loaded as stored) and returns a SpadMat that reads it back in the logical
// orientation: the matmul and vector units take any strides for free, DMA
// pays per contiguous run (timing.ts), so the transpose belongs on the
// scratchpad side.

import { DTYPE_BYTES, view, type Instr, type NpuDtype, type Space, type View } from '../../instr.js';

/** Element (r, c) is at addr + (r * rs + c * cs) * element bytes. */
export interface MatRef {
  space: Space;
  addr: number;
  dtype: NpuDtype;
  rs: number;
  cs: number;
}

/** A row-major matrix with `cols` columns. */
export const rowMajor = (space: Space, addr: number, dtype: NpuDtype, cols: number): MatRef => ({ space, addr, dtype, rs: cols, cs: 1 });

/** The same matrix transposed (a strided view, no data moves). */
export const transposed = (m: MatRef): MatRef => ({ ...m, rs: m.cs, cs: m.rs });

/** The sub-matrix starting at (r0, c0). */
export const offset = (m: MatRef, r0: number, c0: number): MatRef => ({ ...m, addr: m.addr + (r0 * m.rs + c0 * m.cs) * DTYPE_BYTES[m.dtype] });

/** A [rows, cols] view of a matrix (batch dim 1). */
export const matView = (m: MatRef, rows: number, cols: number): View => view(m.space, m.addr, m.dtype, [1, rows, cols], [0, m.rs, m.cs]);

/**
 * dma.load of rows x cols of `src` (from its element (0, 0)) into the
 * scratchpad at `dst`. The tile is stored as the DRAM runs are laid out:
 * row by row when columns are contiguous in DRAM (or neither is), column by
 * column when rows are (a transposed matrix). Broadcast dims (stride 0) are
 * loaded once and read back with stride 0. Returns the instruction and the
 * tile as a MatRef in the scratchpad.
 */
export function loadTile(src: MatRef, rows: number, cols: number, dst: number, tag: number): { instr: Instr; tile: MatRef } {
  const bRows = src.rs === 0 && rows > 1;
  const bCols = src.cs === 0 && cols > 1;
  const r = bRows ? 1 : rows, c = bCols ? 1 : cols;
  const byCols = src.rs === 1 && src.cs !== 1 && r > 1 && c > 1;
  let instr: Instr;
  let tile: MatRef;
  if (byCols) {
    instr = { op: 'dma.load', tag, dst: view('spad', dst, src.dtype, [1, c, r]), src: view(src.space, src.addr, src.dtype, [1, c, r], [0, src.cs, src.rs]) };
    tile = { space: 'spad', addr: dst, dtype: src.dtype, rs: 1, cs: r };
  } else {
    instr = { op: 'dma.load', tag, dst: view('spad', dst, src.dtype, [1, r, c]), src: view(src.space, src.addr, src.dtype, [1, r, c], [0, src.rs, src.cs]) };
    tile = { space: 'spad', addr: dst, dtype: src.dtype, rs: c, cs: 1 };
  }
  if (bRows) tile.rs = 0;
  if (bCols) tile.cs = 0;
  return { instr, tile };
}

/** Bytes a tile of rows x cols of `src` takes in the scratchpad (broadcast dims count once). */
export function tileBytes(src: MatRef, rows: number, cols: number): number {
  const r = src.rs === 0 ? 1 : rows, c = src.cs === 0 ? 1 : cols;
  return r * c * DTYPE_BYTES[src.dtype];
}

/**
 * matmul C (+)= A @ B on logical m x k and k x n operands (any strides). With
 * `stream`, the array computes C^T = B^T A^T instead: the same numbers and
 * summation order, but B's columns stream through while A^T is stationary,
 * which is faster when m is small (timing.ts: a pass takes max(rows, 64)).
 */
export function matmulInstr(c: MatRef, a: MatRef, b: MatRef, m: number, k: number, n: number, accumulate: boolean, stream: boolean): Instr {
  if (stream) return { op: 'matmul', accumulate, c: matView(transposed(c), n, m), a: matView(transposed(b), n, k), b: matView(transposed(a), k, m) };
  return { op: 'matmul', accumulate, c: matView(c, m, n), a: matView(a, m, k), b: matView(b, k, n) };
}

/** The transposed form wins when the output has at most this many rows (timing.ts: ceil(n / 32) x max(m, 64) per 64 of K). */
export const streamRows = (m: number, arrayCols: number): boolean => m <= arrayCols;
