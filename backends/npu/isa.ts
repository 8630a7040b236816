// The NPU kernel ISA (instr.ts) as a table: per opcode its number, its
// function sub-opcodes, the scalar fields it carries and the views it names.
// encode / decode / mnemonic and the assembler (asm.ts) interpret the table.
//
// Encoding [ours, docs/npu-asm.md]: every instruction is INSTR_WORDS = 32
// little-endian 32-bit words (128 bytes), fixed size so that instruction i of
// an engine sits at a computable offset. Words:
//   w0      bits 7:0 opcode, 15:8 fn (0 for ops without one), 16 accumulate
//           (matmul), 31:17 reserved (zero)
//   w1      tag (dma.*, wait.dma) or semaphore (signal, wait.sem), else 0
//   w2      count (wait.sem) or imm as float32 bits (vec.scalar), else 0
//   w3-w7   reserved (zero)
//   w8-w15, w16-w23, w24-w31: view slots 0, 1, 2 (unused slots all zero):
//     +0    bits 1:0 space (1 dram, 2 shared, 3 spad; 0 = no view),
//           3:2 dtype (1 f16, 2 f32, 3 i32), 15:4 reserved, 31:16 address
//           bits 47:32 (DRAM is larger than 4 GiB)
//     +1    address bits 31:0 (bytes)
//     +2-4  shape d0, d1, d2 (unsigned)
//     +5-7  strides s0, s1, s2 in elements, signed two's complement: stride 0
//           broadcasts; negative strides are encodable and the simulator
//           accepts them (a reversed view) as long as every byte is in bounds.
// Opcode 0 is invalid, so a zeroed word never decodes as an instruction.

import { fail } from '../../ir/diagnostics.js';
import type { Instr, InstrOp, NpuDtype, Space, VecBinary, VecReduce, VecScalar, VecUnary, View } from './instr.js';

export const INSTR_WORDS = 32;
export const INSTR_BYTES = INSTR_WORDS * 4;

export const VEC_UNARY: readonly VecUnary[] = ['copy', 'neg', 'abs', 'exp', 'log', 'tanh', 'erf', 'sqrt', 'rsqrt', 'recip', 'sigmoid', 'relu', 'sin', 'cos'];
export const VEC_BINARY: readonly VecBinary[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow'];
export const VEC_SCALAR: readonly VecScalar[] = ['adds', 'muls', 'maxs', 'mins', 'pows'];
export const VEC_REDUCE: readonly VecReduce[] = ['rsum', 'rmax'];

/** Scalar fields and where they live. */
export type ScalarKey = 'tag' | 'sem' | 'count' | 'imm' | 'accumulate';
export type ViewKey = 'dst' | 'src' | 'table' | 'index' | 'c' | 'a' | 'b';

export interface OpSpec {
  op: InstrOp;
  code: number;
  /** Function sub-opcodes (code = position), for the vec ops. */
  fns?: readonly string[];
  scalars: readonly ScalarKey[];
  /** Views in slot order (slot 0 first). */
  views: readonly ViewKey[];
}

export const ISA: readonly OpSpec[] = [
  { op: 'dma.load', code: 0x01, scalars: ['tag'], views: ['dst', 'src'] },
  { op: 'dma.store', code: 0x02, scalars: ['tag'], views: ['dst', 'src'] },
  { op: 'dma.gather', code: 0x03, scalars: ['tag'], views: ['dst', 'table', 'index'] },
  { op: 'wait.dma', code: 0x04, scalars: ['tag'], views: [] },
  { op: 'matmul', code: 0x10, scalars: ['accumulate'], views: ['c', 'a', 'b'] },
  { op: 'vec.unary', code: 0x20, fns: VEC_UNARY, scalars: [], views: ['dst', 'a'] },
  { op: 'vec.binary', code: 0x21, fns: VEC_BINARY, scalars: [], views: ['dst', 'a', 'b'] },
  { op: 'vec.scalar', code: 0x22, fns: VEC_SCALAR, scalars: ['imm'], views: ['dst', 'a'] },
  { op: 'vec.reduce', code: 0x23, fns: VEC_REDUCE, scalars: [], views: ['dst', 'a'] },
  { op: 'signal', code: 0x30, scalars: ['sem'], views: [] },
  { op: 'wait.sem', code: 0x31, scalars: ['sem', 'count'], views: [] },
  { op: 'end', code: 0x3f, scalars: [], views: [] },
];

export const OP_SPEC: ReadonlyMap<InstrOp, OpSpec> = new Map(ISA.map((s) => [s.op, s]));
const BY_CODE = new Map(ISA.map((s) => [s.code, s]));

/** Word of each scalar field (accumulate is a flag in w0). */
const SCALAR_WORD: Record<ScalarKey, number> = { tag: 1, sem: 1, count: 2, imm: 2, accumulate: 0 };
const ACC_BIT = 1 << 16;
const W0_USED = 0x1ffff;
const VIEW_BASE = 8;
const VIEW_WORDS = 8;

export const SPACE_CODE: Record<Space, number> = { dram: 1, shared: 2, spad: 3 };
export const DTYPE_CODE: Record<NpuDtype, number> = { f16: 1, f32: 2, i32: 3 };
const SPACE_OF = Object.fromEntries(Object.entries(SPACE_CODE).map(([k, v]) => [v, k])) as Record<number, Space>;
const DTYPE_OF = Object.fromEntries(Object.entries(DTYPE_CODE).map(([k, v]) => [v, k])) as Record<number, NpuDtype>;

/** Largest encodable byte address (48 bits). */
export const MAX_ADDR = 2 ** 48 - 1;
const U32_MAX = 0xffffffff;

/** The vec op a function name belongs to ('exp' -> 'vec.unary'). */
export const VEC_FN_OP: ReadonlyMap<string, InstrOp> = new Map(
  ISA.flatMap((s) => (s.fns ?? []).map((f) => [f, s.op] as [string, InstrOp])),
);

/** The text mnemonic: `dma.load`, `matmul.acc`, `vec.exp`, ... */
export function mnemonic(ins: Instr): string {
  if (ins.op === 'matmul') return ins.accumulate ? 'matmul.acc' : 'matmul';
  if ('fn' in ins) return `vec.${ins.fn}`;
  return ins.op;
}

/** The views of an instruction in slot order. */
export function viewsOf(ins: Instr): View[] {
  const rec = ins as unknown as Record<string, View>;
  return OP_SPEC.get(ins.op)!.views.map((k) => rec[k]!);
}

// ---- encoding ---------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= U32_MAX;
const isI32 = (v: number) => Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;

/** Why `ins` cannot be encoded, or undefined. (Meaning is the simulator's business: shapes are only range-checked.) */
export function encodeProblem(ins: Instr): string | undefined {
  const spec = OP_SPEC.get(ins.op);
  if (!spec) return `unknown op ${JSON.stringify(ins.op)}`;
  const rec = ins as unknown as Record<string, unknown>;
  if (spec.fns && !spec.fns.includes(rec.fn as string)) return `${ins.op} has no function ${JSON.stringify(rec.fn)}`;
  for (const k of spec.scalars) {
    const v = rec[k];
    if (k === 'accumulate' ? typeof v !== 'boolean' : k === 'imm' ? typeof v !== 'number' : !isU32(v as number)) {
      return `${ins.op} ${k} ${String(v)} is not ${k === 'accumulate' ? 'a boolean' : k === 'imm' ? 'a number' : 'an unsigned 32-bit integer'}`;
    }
  }
  for (const k of spec.views) {
    const v = rec[k] as View | undefined;
    if (!v || typeof v !== 'object') return `${ins.op} misses view ${k}`;
    if (!(v.space in SPACE_CODE)) return `${ins.op} ${k}: unknown space ${JSON.stringify(v.space)}`;
    if (!(v.dtype in DTYPE_CODE)) return `${ins.op} ${k}: unknown dtype ${JSON.stringify(v.dtype)}`;
    if (!Number.isInteger(v.addr) || v.addr < 0 || v.addr > MAX_ADDR) return `${ins.op} ${k}: address ${v.addr} is not in 0..2^48-1`;
    if (v.shape?.length !== 3 || !v.shape.every(isU32)) return `${ins.op} ${k}: shape ${JSON.stringify(v.shape)} is not 3 unsigned 32-bit integers`;
    if (v.strides?.length !== 3 || !v.strides.every(isI32)) return `${ins.op} ${k}: strides ${JSON.stringify(v.strides)} are not 3 signed 32-bit integers`;
  }
  return undefined;
}

/** INSTR_WORDS words into `out` at `at` (a fresh array by default). A bad instruction is its producer's bug. */
export function encode(ins: Instr, out = new Uint32Array(INSTR_WORDS), at = 0): Uint32Array {
  const problem = encodeProblem(ins);
  if (problem) throw new Error(`internal: cannot encode NPU instruction: ${problem}`);
  const spec = OP_SPEC.get(ins.op)!;
  const rec = ins as unknown as Record<string, unknown>;
  out.fill(0, at, at + INSTR_WORDS);
  let w0 = spec.code;
  if (spec.fns) w0 |= spec.fns.indexOf(rec.fn as string) << 8;
  for (const k of spec.scalars) {
    if (k === 'accumulate') w0 |= rec.accumulate ? ACC_BIT : 0;
    else if (k === 'imm') {
      f32[0] = rec.imm as number; // rounded to float32: the unit computes in fp32
      out[at + SCALAR_WORD.imm] = u32[0]!;
    } else out[at + SCALAR_WORD[k]] = rec[k] as number;
  }
  out[at] = w0 >>> 0;
  spec.views.forEach((k, slot) => {
    const v = rec[k] as View;
    const b = at + VIEW_BASE + slot * VIEW_WORDS;
    const hi = Math.floor(v.addr / 2 ** 32);
    out[b] = (SPACE_CODE[v.space] | (DTYPE_CODE[v.dtype] << 2) | (hi << 16)) >>> 0;
    out[b + 1] = v.addr % 2 ** 32;
    for (let d = 0; d < 3; d++) {
      out[b + 2 + d] = v.shape[d]!;
      out[b + 5 + d] = v.strides[d]! >>> 0;
    }
  });
  return out;
}

export const hex32 = (w: number): string => `0x${(w >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Reads the instruction at word `at` of `words`. Anything encode would not
 * write is PIMC1007 naming the word index and byte offset (`byteBase` is the
 * offset of words[0] in its file).
 */
export function decode(words: Uint32Array, at = 0, byteBase = 0): Instr {
  const bad = (i: number, what: string): never =>
    fail('PIMC1007', `malformed NPU instruction at word ${at + i} (byte offset ${byteBase + 4 * (at + i)}): ${what}; regenerate the program`);
  if (at + INSTR_WORDS > words.length) bad(0, `truncated: ${words.length - at} of ${INSTR_WORDS} words`);
  const w0 = words[at]!;
  const spec = BY_CODE.get(w0 & 0xff);
  if (!spec) return bad(0, `unknown opcode 0x${(w0 & 0xff).toString(16)} in ${hex32(w0)}`);
  const fnCode = (w0 >>> 8) & 0xff;
  let fn: string | undefined;
  if (spec.fns) {
    fn = spec.fns[fnCode];
    if (fn === undefined) bad(0, `unknown ${spec.op} function ${fnCode} (0..${spec.fns.length - 1})`);
  } else if (fnCode) bad(0, `${spec.op} has no function, found ${fnCode} in bits 15:8`);
  if (w0 & ~W0_USED) bad(0, `reserved bits 31:17 set in ${hex32(w0)}`);
  if (w0 & ACC_BIT && !spec.scalars.includes('accumulate')) bad(0, `${spec.op} has no accumulate flag (bit 16)`);
  const rec: Record<string, unknown> = { op: spec.op };
  if (fn !== undefined) rec.fn = fn;
  const usedWords = new Set(spec.scalars.map((k) => SCALAR_WORD[k]));
  for (const k of spec.scalars) {
    if (k === 'accumulate') rec.accumulate = (w0 & ACC_BIT) !== 0;
    else if (k === 'imm') {
      u32[0] = words[at + 2]!;
      rec.imm = f32[0]!;
    } else rec[k] = words[at + SCALAR_WORD[k]]!;
  }
  for (let i = 1; i < VIEW_BASE; i++) if (!usedWords.has(i) && words[at + i]) bad(i, `reserved word is ${hex32(words[at + i]!)}, not 0`);
  for (let slot = 0; slot < 3; slot++) {
    const b = VIEW_BASE + slot * VIEW_WORDS;
    const key = spec.views[slot];
    if (key === undefined) {
      for (let i = 0; i < VIEW_WORDS; i++) if (words[at + b + i]) bad(b + i, `${spec.op} has no view slot ${slot}, found ${hex32(words[at + b + i]!)}`);
      continue;
    }
    const m = words[at + b]!;
    const space = SPACE_OF[m & 3];
    const dtype = DTYPE_OF[(m >>> 2) & 3];
    if (!space) bad(b, `view ${key}: space code 0 (1 dram, 2 shared, 3 spad)`);
    if (!dtype) bad(b, `view ${key}: dtype code 0 (1 f16, 2 f32, 3 i32)`);
    if (m & 0xfff0) bad(b, `view ${key}: reserved bits 15:4 set in ${hex32(m)}`);
    const w = (i: number) => words[at + b + i]!;
    rec[key] = {
      space: space!,
      addr: (m >>> 16) * 2 ** 32 + w(1),
      dtype: dtype!,
      shape: [w(2), w(3), w(4)],
      strides: [w(5) | 0, w(6) | 0, w(7) | 0],
    } satisfies View;
  }
  return rec as unknown as Instr;
}
