// Checks one descriptor against the tensor table and the device before a unit
// runs it, in this order: encodable and ids known (PIMC1204), entries valid
// and aligned (PIMC1204), the opcode's shape and dtype rules (PIMC1204), every
// view inside the device (PIMC1201), the output overlapping no input
// (PIMC1202, by byte ranges: the unit's DMA engines check ranges, not
// elements). `where` names unit, descriptor index and time.

import { fail } from '../../ir/diagnostics.js';
import { DTYPE_BYTES, NO_TENSOR, type Descriptor, type TensorEntry } from '../../backends/cxl-pnm/instr.js';
import { descriptorProblem, entryProblem, OP_SPEC, operandsOf } from '../../backends/cxl-pnm/isa.js';
import { extent, overlaps } from './views.js';

/** A descriptor's views, resolved from the table. */
export interface Resolved {
  out: TensorEntry;
  ins: TensorEntry[];
}

const dimsText = (e: TensorEntry) => `${e.dtype}[${e.dims.join(', ')}]`;
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export function checkDescriptor(d: Descriptor, table: readonly TensorEntry[], deviceBytes: number, where: string): Resolved {
  const malformed = (what: string): never => fail('PIMC1204', `malformed PNM descriptor: ${where}: ${what}`);
  const p = descriptorProblem(d);
  if (p) malformed(p);
  const spec = OP_SPEC.get(d.op)!;
  const entry = (id: number, name: string): TensorEntry => {
    const e = table[id];
    if (!e) return malformed(`${name} is tensor %${id}, but the table has ${table.length} entries`);
    const ep = entryProblem(e);
    if (ep) malformed(`${name} (%${id}): ${ep}`);
    if (e.addr % DTYPE_BYTES[e.dtype]) malformed(`${name} (%${id}) at byte ${e.addr} is not aligned to its ${DTYPE_BYTES[e.dtype]}-byte elements`);
    return e;
  };
  const ops = operandsOf(d);
  const out = entry(d.out, 'out');
  const ins = ops.map((o) => entry(o.id, o.name));
  const named = ops.map((o, i) => ({ name: o.name, id: o.id, e: ins[i]! }));

  // ---- shapes and dtypes ----
  const isFloat = (e: TensorEntry) => e.dtype !== 'i32';
  if (spec.float) {
    if (!isFloat(out)) malformed(`${d.op} writes float results; out (%${d.out}) is i32`);
    for (const n of named) if (!isFloat(n.e)) malformed(`${d.op} reads floats; ${n.name} (%${n.id}) is i32`);
  }
  const mismatch = (what: string): never => malformed(`shape mismatch: ${what}`);
  const sameAsOut = (n: { name: string; id: number; e: TensorEntry }) => {
    if (!same(n.e.dims, out.dims)) mismatch(`${d.op} ${n.name} (%${n.id}) is ${dimsText(n.e)}, out (%${d.out}) is ${dimsText(out)}; operands have the output's dims (broadcast with stride 0)`);
  };
  const r = out.dims.length;
  switch (spec.op) {
    case 'gemm': {
      const [a, b, bias] = named;
      if (r < 2 || a!.e.dims.length !== r || b!.e.dims.length !== r) mismatch(`gemm needs out, a and b of one rank 2..4, got ${dimsText(out)}, ${dimsText(a!.e)}, ${dimsText(b!.e)}`);
      const [M, N] = out.dims.slice(-2) as [number, number];
      const [am, ak] = a!.e.dims.slice(-2) as [number, number];
      const [bk, bn] = b!.e.dims.slice(-2) as [number, number];
      if (am !== M || bn !== N || ak !== bk || !same(a!.e.dims.slice(0, -2), out.dims.slice(0, -2)) || !same(b!.e.dims.slice(0, -2), out.dims.slice(0, -2))) {
        mismatch(`gemm out ${dimsText(out)} = a ${dimsText(a!.e)} @ b ${dimsText(b!.e)} does not fit [.., M, K] @ [.., K, N] -> [.., M, N]`);
      }
      if (a!.e.dtype !== 'f16' || b!.e.dtype !== 'f16') malformed(`the matrix engine reads f16; a is ${a!.e.dtype}, b is ${b!.e.dtype}`);
      if (bias) sameAsOut(bias);
      break;
    }
    case 'attention': {
      const [q, k, v] = named;
      if (r !== 4 || named.some((n) => n.e.dims.length !== 4)) mismatch('attention views are 4-D: q [b, hq, s, d], k [b, hkv, t, d], v [b, hkv, t, dv], out [b, hq, s, dv]');
      const [B, Hq, S, D] = q!.e.dims as [number, number, number, number];
      const [kb, Hkv, T, kd] = k!.e.dims as [number, number, number, number];
      const [vb, vh, vt, Dv] = v!.e.dims as [number, number, number, number];
      if (kb !== B || vb !== B || vh !== Hkv || vt !== T || kd !== D || !same(out.dims, [B, Hq, S, Dv])) {
        mismatch(`attention q ${dimsText(q!.e)}, k ${dimsText(k!.e)}, v ${dimsText(v!.e)}, out ${dimsText(out)} do not agree`);
      }
      if (Hkv === 0 || Hq % Hkv !== 0) mismatch(`attention: ${Hq} query heads are not a multiple of ${Hkv} kv heads`);
      if (T === 0) mismatch('attention over an empty cache (valid length 0)');
      for (const n of named) if (n.e.dtype !== 'f16') malformed(`the matrix engine reads f16; ${n.name} is ${n.e.dtype}`);
      break;
    }
    case 'kv_append': {
      const n = named[0]!;
      if (r < 2 || n.e.dims.length !== r) mismatch(`kv_append cache ${dimsText(out)} and new ${dimsText(n.e)} need one rank >= 2`);
      const ax = r - 2;
      if (!out.dims.every((x, i) => i === ax || x === n.e.dims[i])) mismatch(`kv_append new ${dimsText(n.e)} does not match cache ${dimsText(out)} outside the sequence dim (${ax})`);
      if (d.imm + n.e.dims[ax]! > out.dims[ax]!) mismatch(`kv_append of ${n.e.dims[ax]} rows at position ${d.imm} overruns the cache's ${out.dims[ax]} rows`);
      if (n.e.dtype !== out.dtype) malformed(`kv_append copies bits: new is ${n.e.dtype}, the cache is ${out.dtype}`);
      break;
    }
    case 'copy': {
      const n = named[0]!;
      sameAsOut(n);
      if (isFloat(n.e) !== isFloat(out)) malformed(`copy converts between floats only: ${n.e.dtype} to ${out.dtype}`);
      break;
    }
    default:
      for (const n of named) sameAsOut(n);
      if (spec.op === 'rope' && (out.dims[r - 1]! % 2 !== 0)) mismatch(`rope needs an even head size, got ${out.dims[r - 1]}`);
  }

  // ---- bounds and overlap ----
  const views = [{ name: 'out', id: d.out, e: out }, ...named];
  for (const v of views) {
    const x = extent(v.e);
    if (x.lo < 0 || x.hi > deviceBytes) {
      fail('PIMC1201', `PNM descriptor addresses memory outside the device: ${where}: ${v.name} (%${v.id}) spans bytes ${x.lo}..${x.hi - 1}; the device has ${deviceBytes}`);
    }
  }
  const ox = extent(out);
  for (const n of named) {
    if (n.id !== NO_TENSOR && overlaps(ox, extent(n.e))) {
      const x = extent(n.e);
      fail('PIMC1202', `PNM descriptor output overlaps an input: ${where}: out (%${d.out}, bytes ${ox.lo}..${ox.hi - 1}) and ${n.name} (%${n.id}, bytes ${x.lo}..${x.hi - 1}); write the result elsewhere`);
    }
  }
  return { out, ins };
}
