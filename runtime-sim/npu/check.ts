// Static checks of one instruction before the simulator executes it: every
// view well formed, in its memory's bounds (PIMC1001), in the spaces and
// dtypes its op allows, with shapes that agree (PIMC1003). `bad` throws the
// coded fault; sim.ts puts engine, instruction index and cycle in front.

import { DTYPE_BYTES, type Instr, type NpuDtype, type Space, type View } from '../../backends/npu/instr.js';
import type { DiagnosticCode } from '../../ir/diagnostics.js';
import { OP_SPEC } from '../../backends/npu/isa.js';
import { extent, hexAddr, shapeText } from './views.js';
import { SPACE_NAME } from './memory.js';

export type Bad = (code: DiagnosticCode, what: string) => never;

export interface Sizes {
  dram: number;
  shared: number;
  spad: number;
}

const FLOAT: readonly NpuDtype[] = ['f16', 'f32'];
const isU32 = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** A view of `shape` reading `v` with size-1 dims broadcast (stride 0). */
export function broadcastTo(v: View, shape: readonly [number, number, number]): View {
  const strides = v.strides.map((s, d) => (v.shape[d] === 1 && shape[d] !== 1 ? 0 : s)) as [number, number, number];
  return { ...v, shape: [...shape], strides };
}

function checkView(name: string, v: View | undefined, sizes: Sizes, spaces: readonly Space[], dtypes: readonly NpuDtype[], bad: Bad): View {
  if (!v || typeof v !== 'object') return bad('PIMC1003', `view ${name} is missing`);
  if (!spaces.includes(v.space)) bad('PIMC1003', `${name} is in ${JSON.stringify(v.space)}; this operand must be in ${spaces.join(' or ')}`);
  if (!dtypes.includes(v.dtype)) bad('PIMC1003', `${name} has dtype ${JSON.stringify(v.dtype)}; this operand must be ${dtypes.join(' or ')}`);
  if (v.shape?.length !== 3 || !v.shape.every((d) => Number.isInteger(d) && d >= 1)) {
    bad('PIMC1003', `${name} shape ${JSON.stringify(v.shape)} is not 3 positive integers`);
  }
  if (v.strides?.length !== 3 || !v.strides.every((s) => Number.isSafeInteger(s))) bad('PIMC1003', `${name} strides ${JSON.stringify(v.strides)} are not 3 integers`);
  const e = DTYPE_BYTES[v.dtype];
  if (!Number.isSafeInteger(v.addr) || v.addr < 0) bad('PIMC1003', `${name} address ${v.addr} is not a byte address`);
  if (v.addr % e) bad('PIMC1003', `${name} address ${hexAddr(v.addr)} is not aligned to its ${e}-byte ${v.dtype} elements`);
  const { lo, hi } = extent(v);
  const size = sizes[v.space];
  if (lo < 0 || hi > size) {
    bad('PIMC1001', `${name} ${v.space}[${hexAddr(v.addr)}]:${v.dtype}${shapeText(v)}{${v.strides.join(',')}} touches bytes ${lo}..${hi - 1}, outside the ${SPACE_NAME[v.space]} (${size} bytes)`);
  }
  // A destination that repeats an element would write it twice: the last write wins silently, so refuse it.
  if (name === 'dst' || name === 'c') {
    const d = v.strides.findIndex((st, i) => st === 0 && v.shape[i]! > 1);
    if (d >= 0) bad('PIMC1003', `${name} has stride 0 in dim ${d} of size ${v.shape[d]}: a destination cannot broadcast`);
  }
  return v;
}

const same = (a: readonly number[], b: readonly number[]) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

function checkBroadcast(name: string, v: View, dst: View, bad: Bad): void {
  for (let d = 0; d < 3; d++) {
    if (v.shape[d] !== dst.shape[d] && v.shape[d] !== 1) {
      bad('PIMC1003', `${name} shape ${shapeText(v)} does not broadcast to the destination ${shapeText(dst)} (dim ${d}: ${v.shape[d]} vs ${dst.shape[d]})`);
    }
  }
}

const MEM: readonly Space[] = ['dram', 'shared'];
const SPAD: readonly Space[] = ['spad'];
const ANY: readonly NpuDtype[] = ['f16', 'f32', 'i32'];

export function checkInstr(ins: Instr, sizes: Sizes, bad: Bad): void {
  const tagOk = (k: string, v: unknown) => { if (!isU32(v)) bad('PIMC1003', `${k} ${String(v)} is not an unsigned 32-bit integer`); };
  switch (ins.op) {
    case 'dma.load':
    case 'dma.store': {
      tagOk('tag', ins.tag);
      const load = ins.op === 'dma.load';
      const dst = checkView('dst', ins.dst, sizes, load ? SPAD : MEM, ANY, bad);
      const src = checkView('src', ins.src, sizes, load ? MEM : SPAD, ANY, bad);
      if (dst.dtype !== src.dtype) bad('PIMC1003', `dst is ${dst.dtype} but src is ${src.dtype}; a DMA copies bits, convert with vec.copy`);
      if (!same(dst.shape, src.shape)) bad('PIMC1003', `dst shape ${shapeText(dst)} differs from src shape ${shapeText(src)}`);
      return;
    }
    case 'dma.gather': {
      tagOk('tag', ins.tag);
      const dst = checkView('dst', ins.dst, sizes, SPAD, ANY, bad);
      const table = checkView('table', ins.table, sizes, MEM, ANY, bad);
      const index = checkView('index', ins.index, sizes, SPAD, ['i32'], bad);
      if (dst.dtype !== table.dtype) bad('PIMC1003', `dst is ${dst.dtype} but table is ${table.dtype}`);
      if (dst.shape[0] !== 1 || table.shape[0] !== 1) bad('PIMC1003', `dst ${shapeText(dst)} and table ${shapeText(table)} must be [1, rows, cols]`);
      if (dst.shape[2] !== table.shape[2]) bad('PIMC1003', `dst rows have ${dst.shape[2]} columns but table rows ${table.shape[2]}`);
      const n = index.shape[0] * index.shape[1] * index.shape[2];
      if (n !== dst.shape[1]) bad('PIMC1003', `index has ${n} elements for ${dst.shape[1]} dst rows`);
      return;
    }
    case 'wait.dma':
      return tagOk('tag', ins.tag);
    case 'signal':
      return tagOk('semaphore', ins.sem);
    case 'wait.sem':
      tagOk('semaphore', ins.sem);
      return tagOk('count', ins.count);
    case 'end':
      return;
    case 'matmul': {
      if (typeof ins.accumulate !== 'boolean') bad('PIMC1003', `accumulate ${String(ins.accumulate)} is not a boolean`);
      const c = checkView('c', ins.c, sizes, SPAD, FLOAT, bad);
      const a = checkView('a', ins.a, sizes, SPAD, ['f16'], bad);
      const b = checkView('b', ins.b, sizes, SPAD, ['f16'], bad);
      const [B, M, K] = a.shape;
      if (b.shape[0] !== B || c.shape[0] !== B) bad('PIMC1003', `batch differs: a ${shapeText(a)}, b ${shapeText(b)}, c ${shapeText(c)}`);
      if (b.shape[1] !== K) bad('PIMC1003', `K differs: a ${shapeText(a)} is [B,M,K] but b ${shapeText(b)} is not [B,K,N]`);
      if (c.shape[1] !== M || c.shape[2] !== b.shape[2]) bad('PIMC1003', `c ${shapeText(c)} is not [B,M,N] = [${B},${M},${b.shape[2]}]`);
      return;
    }
    case 'vec.unary':
    case 'vec.scalar':
    case 'vec.binary': {
      checkFn(ins, bad);
      const dst = checkView('dst', ins.dst, sizes, SPAD, FLOAT, bad);
      checkBroadcast('a', checkView('a', ins.a, sizes, SPAD, FLOAT, bad), dst, bad);
      if (ins.op === 'vec.binary') checkBroadcast('b', checkView('b', ins.b, sizes, SPAD, FLOAT, bad), dst, bad);
      if (ins.op === 'vec.scalar' && typeof ins.imm !== 'number') bad('PIMC1003', `imm ${String(ins.imm)} is not a number`);
      return;
    }
    case 'vec.reduce': {
      checkFn(ins, bad);
      const dst = checkView('dst', ins.dst, sizes, SPAD, FLOAT, bad);
      const a = checkView('a', ins.a, sizes, SPAD, FLOAT, bad);
      if (dst.shape[0] !== a.shape[0] || dst.shape[1] !== a.shape[1] || dst.shape[2] !== 1) {
        bad('PIMC1003', `dst ${shapeText(dst)} is not [${a.shape[0]},${a.shape[1]},1] for a ${shapeText(a)} reduced along its last dim`);
      }
      return;
    }
    default:
      bad('PIMC1003', `unknown op ${JSON.stringify((ins as { op: unknown }).op)}`);
  }
}

function checkFn(ins: Extract<Instr, { fn: string }>, bad: Bad): void {
  const fns = OP_SPEC.get(ins.op)!.fns!;
  if (!fns.includes(ins.fn)) bad('PIMC1003', `${ins.op} has no function ${JSON.stringify(ins.fn)} (${fns.join(', ')})`);
}
