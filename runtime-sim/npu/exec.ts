// Functional execution of one checked instruction (check.ts ran first): the
// simulator really moves and computes every element. Arithmetic is fp32
// (Math.fround after every operation), results are rounded to the
// destination dtype when written (PagedStore.set: f16 to nearest even).
//
// MATMUL order [ours, the lowering's error bounds rely on it]: for each
// batch b, row m, column n, one fp32 accumulator starts at c[b,m,n] (when
// accumulate) or 0, then adds a[b,m,k] * b[b,k,n] for k = 0, 1, ..., K-1 in
// that order, rounding to fp32 after each add (the f16 x f16 product is exact
// in fp32); the final value is rounded once to c's dtype. The error is then
// within gamma_K(2^-24) * (|c| + sum_k |a b|) before that last rounding.

import { DTYPE_BYTES, type Instr, type View } from '../../backends/npu/instr.js';
import type { Bad } from './check.js';
import { broadcastTo } from './check.js';
import type { NpuMemory, PagedStore } from './memory.js';
import { BINARY, REDUCE, SCALAR, UNARY } from './vec-fns.js';
import { addresses } from './views.js';

const fr = Math.fround;

/** Row starts of a view whose innermost stride is 1 (rows of shape[2] consecutive elements), or null. */
function rowStarts(v: View): number[] | null {
  if (v.strides[2] !== 1 && v.shape[2] !== 1) return null;
  const e = DTYPE_BYTES[v.dtype];
  const out: number[] = [];
  for (let i = 0; i < v.shape[0]; i++) for (let j = 0; j < v.shape[1]; j++) out.push(v.addr + (i * v.strides[0] + j * v.strides[1]) * e);
  return out;
}

export function readValues(s: PagedStore, v: View): Float64Array {
  const rows = rowStarts(v);
  const n = v.shape[2];
  if (rows) {
    // row by row, in typed loops (the same values as get() per element)
    const out = new Float64Array(rows.length * n);
    rows.forEach((a, r) => s.getValues(a, v.dtype, n, out, r * n));
    return out;
  }
  const addr = addresses(v);
  const out = new Float64Array(addr.length);
  for (let i = 0; i < addr.length; i++) out[i] = s.get(addr[i]!, v.dtype);
  return out;
}

export function writeValues(s: PagedStore, v: View, values: Float64Array): void {
  const rows = rowStarts(v);
  const n = v.shape[2];
  if (rows) {
    // row by row (setMany: the same roundings as set() per element)
    rows.forEach((a, r) => s.setMany(a, v.dtype, values.subarray(r * n, (r + 1) * n)));
    return;
  }
  const addr = addresses(v);
  for (let i = 0; i < addr.length; i++) s.set(addr[i]!, v.dtype, values[i]!);
}

/** Copies raw element bits (dtypes are equal): read everything first, so overlapping views copy as a snapshot. */
function copyBits(from: PagedStore, src: View, to: PagedStore, dst: View): void {
  const e = DTYPE_BYTES[src.dtype];
  const sr = rowStarts(src);
  const dr = rowStarts(dst);
  if (sr && dr) {
    // row by row, in typed loops (getRaw / setRaw per element)
    const bits = e === 2 ? new Uint16Array(sr.length * src.shape[2]) : new Uint32Array(sr.length * src.shape[2]);
    sr.forEach((a, r) => from.getRawRun(a, e, src.shape[2], bits, r * src.shape[2]));
    dr.forEach((a, r) => to.setRawRun(a, e, dst.shape[2], bits, r * dst.shape[2]));
    return;
  }
  const sa = addresses(src);
  const da = addresses(dst);
  const bits = new Float64Array(sa.length);
  for (let i = 0; i < sa.length; i++) bits[i] = from.getRaw(sa[i]!, e);
  for (let i = 0; i < da.length; i++) to.setRaw(da[i]!, e, bits[i]!);
}

export function execDma(mem: NpuMemory, engine: number, ins: Extract<Instr, { op: 'dma.load' | 'dma.store' }>): void {
  copyBits(mem.store(ins.src.space, engine), ins.src, mem.store(ins.dst.space, engine), ins.dst);
}

/** The table rows a gather reads, checked against the table (PIMC1006). */
export function gatherRows(mem: NpuMemory, engine: number, ins: Extract<Instr, { op: 'dma.gather' }>, bad: Bad): number[] {
  const spad = mem.store('spad', engine);
  const rows = Array.from(readValues(spad, ins.index));
  const tableRows = ins.table.shape[1];
  rows.forEach((r, i) => {
    if (r < 0 || r >= tableRows) bad('PIMC1006', `index[${i}] = ${r} is outside the table's ${tableRows} rows`);
  });
  return rows;
}

/** View of table row `r` as a [1,1,cols] view. */
export function tableRow(table: View, r: number): View {
  const e = DTYPE_BYTES[table.dtype];
  return { ...table, addr: table.addr + r * table.strides[1] * e, shape: [1, 1, table.shape[2]], strides: [0, 0, table.strides[2]] };
}

export function execGather(mem: NpuMemory, engine: number, ins: Extract<Instr, { op: 'dma.gather' }>, rows: readonly number[]): void {
  const from = mem.store(ins.table.space, engine);
  const to = mem.store('spad', engine);
  const e = DTYPE_BYTES[ins.dst.dtype];
  rows.forEach((r, i) => {
    const dstRow: View = { ...ins.dst, addr: ins.dst.addr + i * ins.dst.strides[1] * e, shape: [1, 1, ins.dst.shape[2]], strides: [0, 0, ins.dst.strides[2]] };
    copyBits(from, tableRow(ins.table, r), to, dstRow);
  });
}

export function execMatmul(mem: NpuMemory, engine: number, ins: Extract<Instr, { op: 'matmul' }>): void {
  const s = mem.store('spad', engine);
  const [B, M, K] = ins.a.shape;
  const N = ins.b.shape[2];
  const a = readValues(s, ins.a);
  const b = readValues(s, ins.b);
  // b transposed to [B, N, K] so the K loop walks memory in order.
  const bt = new Float64Array(B * N * K);
  for (let x = 0; x < B; x++) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bt[(x * N + n) * K + k] = b[(x * K + k) * N + n]!;
  const c = ins.accumulate ? readValues(s, ins.c) : new Float64Array(B * M * N);
  for (let x = 0; x < B; x++) {
    for (let m = 0; m < M; m++) {
      const ar = (x * M + m) * K;
      for (let n = 0; n < N; n++) {
        const br = (x * N + n) * K;
        let acc = c[(x * M + m) * N + n]!;
        for (let k = 0; k < K; k++) acc = fr(acc + a[ar + k]! * bt[br + k]!);
        c[(x * M + m) * N + n] = acc;
      }
    }
  }
  writeValues(s, ins.c, c);
}

export function execVec(mem: NpuMemory, engine: number, ins: Extract<Instr, { op: 'vec.unary' | 'vec.binary' | 'vec.scalar' | 'vec.reduce' }>): void {
  const s = mem.store('spad', engine);
  const dst = ins.dst;
  if (ins.op === 'vec.reduce') {
    const a = readValues(s, ins.a);
    const L = ins.a.shape[2];
    const f = REDUCE[ins.fn];
    const out = new Float64Array(a.length / L);
    for (let r = 0; r < out.length; r++) {
      let acc = a[r * L]!;
      for (let l = 1; l < L; l++) acc = f(acc, a[r * L + l]!);
      out[r] = acc;
    }
    writeValues(s, dst, out);
    return;
  }
  const a = readValues(s, broadcastTo(ins.a, dst.shape));
  const out = new Float64Array(a.length);
  if (ins.op === 'vec.unary') {
    const f = UNARY[ins.fn];
    for (let i = 0; i < a.length; i++) out[i] = f(a[i]!);
  } else if (ins.op === 'vec.scalar') {
    const f = SCALAR[ins.fn];
    const imm = fr(ins.imm);
    for (let i = 0; i < a.length; i++) out[i] = f(a[i]!, imm);
  } else {
    const b = readValues(s, broadcastTo(ins.b, dst.shape));
    const f = BINARY[ins.fn];
    for (let i = 0; i < a.length; i++) out[i] = f(a[i]!, b[i]!);
  }
  writeValues(s, dst, out);
}
