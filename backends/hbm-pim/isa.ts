// The HBM-PIM instruction set (HARDWARE.md 3.2) as data: one table says, per
// opcode, which bit fields exist and how the assembler writes them; encode,
// decode, format and the assembler (asm.ts) interpret that table and know no
// opcode by name.
//
// Bit layout, derived from the five known encodings (bit 31 on the left):
//   0x3B108000 MAC GRF_B,GRF_A,EVEN_BANK,aam
//     0011 101 100 010 000 1 000 0000 0000 0000
//     op=3 dst=5 src0=4 src1=2 src2=0 aam=1 ... indices 0
//   0x1B588000 ADD GRF_B,GRF_B,ODD_BANK,aam
//     0001 101 101 011 000 1 ...   op=1 dst=5 src0=5 src1=3 aam=1
//   0x9AC00000 FILL GRF_B,ODD_BANK
//     1001 101 011 000 ...         op=9 dst=5 src0=3, no AAM bit (FILL always repeats 8 times)
//   0xE003F802 JUMP 127,-2: 0xE003F802 & 0x0FFFFFFF = 0x003F802 = 127 << 11 | 2,
//     so bits 27:11 hold the count (127) and 10:0 the backward offset as a
//     positive number (2); the text writes the offset negated, as a jump back.
//   0xF0000000 EXIT: opcode 15, every other bit zero.
// So dst 27:25, src0 24:22, src1 21:19, src2 18:16, AAM 15, ReLU 12, indices
// 11:8 / 7:4 / 3:0 (4 bits each, as the hardware encodes them, though a GRF
// has 8 entries), NOP count 10:0 holding count (`NOP 7` occupies 8 triggering
// commands, the GEMV store phase of 8 WRs), JUMP count 27:11 and offset 10:0.

import { fail } from '../../ir/diagnostics.js';

export const PIM_OPS = ['NOP', 'ADD', 'MUL', 'MAC', 'MAD', 'MOV', 'FILL', 'JUMP', 'EXIT'] as const;
export type PimOp = (typeof PIM_OPS)[number];

/** Operand codes: what a 3-bit dst/src field names. */
export const OPERAND = { A_OUT: 0, M_OUT: 1, EVEN_BANK: 2, ODD_BANK: 3, GRF_A: 4, GRF_B: 5, SRF_M: 6, SRF_A: 7 } as const;
export type OperandName = keyof typeof OPERAND;
export const OPERAND_NAMES = Object.keys(OPERAND) as OperandName[];

/**
 * One decoded instruction. Every field is present (0 / false when the opcode
 * has no such field) so table-driven code can treat them alike.
 */
export interface PimInstr {
  op: PimOp;
  /** Operand codes (OPERAND). */
  dst: number;
  src0: number;
  src1: number;
  src2: number;
  dstIdx: number;
  src0Idx: number;
  src1Idx: number;
  aam: boolean;
  relu: boolean;
  /** NOP: extra commands occupied (occupies count+1). JUMP: loop count. */
  count: number;
  /** JUMP: instructions to jump back (written negated in text). */
  offset: number;
}

export type FieldKey = Exclude<keyof PimInstr, 'op'>;
type RegKey = 'dst' | 'src0' | 'src1' | 'src2';
type IdxKey = 'dstIdx' | 'src0Idx' | 'src1Idx';

export interface Field {
  key: FieldKey;
  hi: number;
  lo: number;
}

/** How the assembler writes an operand slot. */
export type Slot =
  | { kind: 'reg'; field: RegKey; index?: IdxKey }
  | { kind: 'imm'; field: 'count' }
  /** A backward distance, written as a non-positive number (`JUMP 7, -1`). */
  | { kind: 'back'; field: 'offset' };

export interface OpSpec {
  op: PimOp;
  code: number;
  /** Bit fields below the opcode (31:28), each a field of PimInstr. */
  fields: readonly Field[];
  /** Written operands, in order. */
  syntax: readonly Slot[];
  /** Flags written after the operands, by field name. */
  flags: readonly ('aam' | 'relu')[];
}

const f = (key: FieldKey, hi: number, lo: number): Field => ({ key, hi, lo });
const DST = f('dst', 27, 25), SRC0 = f('src0', 24, 22), SRC1 = f('src1', 21, 19), SRC2 = f('src2', 18, 16);
const AAM = f('aam', 15, 15), RELU = f('relu', 12, 12);
const DST_IDX = f('dstIdx', 11, 8), SRC0_IDX = f('src0Idx', 7, 4), SRC1_IDX = f('src1Idx', 3, 0);
const ARITH_FIELDS = [DST, SRC0, SRC1, AAM, DST_IDX, SRC0_IDX, SRC1_IDX];
const DATA_FIELDS = [DST, SRC0, RELU, DST_IDX, SRC0_IDX];
const R_DST: Slot = { kind: 'reg', field: 'dst', index: 'dstIdx' };
const R_SRC0: Slot = { kind: 'reg', field: 'src0', index: 'src0Idx' };
const R_SRC1: Slot = { kind: 'reg', field: 'src1', index: 'src1Idx' };
const ARITH_SYNTAX = [R_DST, R_SRC0, R_SRC1];

export const ISA: readonly OpSpec[] = [
  { op: 'NOP', code: 0, fields: [f('count', 10, 0)], syntax: [{ kind: 'imm', field: 'count' }], flags: [] },
  { op: 'ADD', code: 1, fields: ARITH_FIELDS, syntax: ARITH_SYNTAX, flags: ['aam'] },
  { op: 'MUL', code: 2, fields: ARITH_FIELDS, syntax: ARITH_SYNTAX, flags: ['aam'] },
  { op: 'MAC', code: 3, fields: ARITH_FIELDS, syntax: ARITH_SYNTAX, flags: ['aam'] },
  // src2 has a register field but no index field.
  { op: 'MAD', code: 4, fields: [...ARITH_FIELDS, SRC2], syntax: [...ARITH_SYNTAX, { kind: 'reg', field: 'src2' }], flags: ['aam'] },
  { op: 'MOV', code: 8, fields: DATA_FIELDS, syntax: [R_DST, R_SRC0], flags: ['relu'] },
  { op: 'FILL', code: 9, fields: DATA_FIELDS, syntax: [R_DST, R_SRC0], flags: ['relu'] },
  {
    op: 'JUMP', code: 14, fields: [f('count', 27, 11), f('offset', 10, 0)],
    syntax: [{ kind: 'imm', field: 'count' }, { kind: 'back', field: 'offset' }], flags: [],
  },
  { op: 'EXIT', code: 15, fields: [], syntax: [], flags: [] },
];

export const OP_SPEC: ReadonlyMap<PimOp, OpSpec> = new Map(ISA.map((s) => [s.op, s]));
const BY_CODE: (OpSpec | undefined)[] = Array.from({ length: 16 }, (_, c) => ISA.find((s) => s.code === c));
/** Opcodes 5-7 and 10-13. */
export const RESERVED_OPCODES: readonly number[] = BY_CODE.flatMap((s, c) => (s ? [] : [c]));

export const fieldMax = (fd: Field): number => 2 ** (fd.hi - fd.lo + 1) - 1;
const fieldMask = (fd: Field): number => (fieldMax(fd) * 2 ** fd.lo) >>> 0;

/**
 * Checks the table itself: fields inside 27:0, no overlaps, flags 1 bit wide,
 * every written slot backed by a field. Run at load, so a bad edit fails every test.
 */
export function validateIsa(isa: readonly OpSpec[] = ISA): void {
  const codes = new Set<number>();
  for (const s of isa) {
    if (!Number.isInteger(s.code) || s.code < 0 || s.code > 15 || codes.has(s.code)) throw new Error(`ISA table: ${s.op} has a bad or repeated opcode ${s.code}`);
    codes.add(s.code);
    let used = 0;
    const keys = new Set<FieldKey>();
    for (const fd of s.fields) {
      if (fd.lo < 0 || fd.hi > 27 || fd.hi < fd.lo) throw new Error(`ISA table: ${s.op}.${fd.key} bits ${fd.hi}:${fd.lo} outside 27:0`);
      if (used & fieldMask(fd)) throw new Error(`ISA table: ${s.op}.${fd.key} overlaps another field`);
      if (keys.has(fd.key)) throw new Error(`ISA table: ${s.op}.${fd.key} given twice`);
      used |= fieldMask(fd);
      keys.add(fd.key);
    }
    const written = [...s.syntax.flatMap((sl) => (sl.kind === 'reg' && sl.index ? [sl.field, sl.index] : [sl.field])), ...s.flags];
    for (const k of written) if (!keys.has(k)) throw new Error(`ISA table: ${s.op} writes ${k}, which has no field`);
    for (const k of s.flags) if (s.fields.some((fd) => fd.key === k && fd.hi !== fd.lo)) throw new Error(`ISA table: flag ${s.op}.${k} is not 1 bit`);
    if (keys.size !== written.length) throw new Error(`ISA table: ${s.op} has a field the assembler cannot write`);
  }
}
validateIsa();

/** An instruction with every field at its default, then `fields`. */
export function pimInstr(op: PimOp, fields: Partial<Omit<PimInstr, 'op'>> = {}): PimInstr {
  return { op, dst: 0, src0: 0, src1: 0, src2: 0, dstIdx: 0, src0Idx: 0, src1Idx: 0, aam: false, relu: false, count: 0, offset: 0, ...fields };
}

const num = (v: number | boolean): number => (typeof v === 'boolean' ? +v : v);

/** Why `instr` cannot be encoded (a field out of range, or set on an opcode without it), or undefined. */
export function instrProblem(instr: PimInstr): string | undefined {
  const spec = OP_SPEC.get(instr.op);
  if (!spec) return `unknown op ${JSON.stringify(instr.op)}`;
  const def = pimInstr(instr.op);
  for (const key of Object.keys(def) as (keyof PimInstr)[]) {
    if (key === 'op') continue;
    const fd = spec.fields.find((x) => x.key === key);
    const v = num(instr[key]);
    if (!fd) {
      if (v !== num(def[key])) return `${instr.op} has no ${key} field (got ${String(instr[key])})`;
    } else if (!Number.isInteger(v) || v < 0 || v > fieldMax(fd)) {
      return `${instr.op} ${key} ${String(instr[key])} is outside 0..${fieldMax(fd)}`;
    }
  }
  return undefined;
}

/** The 32-bit word (as an unsigned number). A bad instruction is a bug in its producer. */
export function encode(instr: PimInstr): number {
  const problem = instrProblem(instr);
  if (problem) throw new Error(`internal: cannot encode PIM instruction: ${problem}`);
  const spec = OP_SPEC.get(instr.op)!;
  let w = spec.code * 2 ** 28;
  for (const fd of spec.fields) w += num(instr[fd.key]) * 2 ** fd.lo;
  return w >>> 0;
}

export const hex32 = (w: number): string => `0x${(w >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

/**
 * Reads a word as the hardware does: bits outside the opcode's fields are
 * ignored (binary.ts refuses them in files). A reserved opcode is PIMC0905.
 */
export function decode(word: number, where: string): PimInstr {
  const w = word >>> 0;
  const spec = BY_CODE[w >>> 28];
  if (!spec) fail('PIMC0905', `reserved PIM opcode ${w >>> 28} in word ${hex32(w)} at ${where}; opcodes 5-7 and 10-13 are reserved, regenerate the program`);
  const instr = pimInstr(spec.op);
  const rec = instr as unknown as Record<FieldKey, number | boolean>;
  for (const fd of spec.fields) {
    const v = Math.floor(w / 2 ** fd.lo) & fieldMax(fd);
    rec[fd.key] = fd.key === 'aam' || fd.key === 'relu' ? v === 1 : v;
  }
  return instr;
}

/** Bits of `word` that no field of its opcode covers (0 for a canonical word). */
export function strayBits(word: number): number {
  const w = word >>> 0;
  const spec = BY_CODE[w >>> 28];
  if (!spec) return 0;
  let mask = 0xf0000000;
  for (const fd of spec.fields) mask = (mask | fieldMask(fd)) >>> 0;
  return (w & ~mask) >>> 0;
}

/** Canonical text: `MAC GRF_B[3], GRF_A, EVEN_BANK, aam`, `JUMP 7, -1`, `EXIT`. */
export function formatInstr(instr: PimInstr): string {
  const spec = OP_SPEC.get(instr.op);
  if (!spec) throw new Error(`internal: unknown PIM op ${JSON.stringify(instr.op)}`);
  const parts = spec.syntax.map((sl) => {
    if (sl.kind === 'imm') return String(instr[sl.field]);
    if (sl.kind === 'back') return instr.offset === 0 ? '0' : `-${instr.offset}`;
    const name = OPERAND_NAMES[instr[sl.field]] ?? String(instr[sl.field]);
    const idx = sl.index ? instr[sl.index] : 0;
    return idx ? `${name}[${idx}]` : name;
  });
  for (const fl of spec.flags) if (instr[fl]) parts.push(fl);
  return parts.length ? `${spec.op} ${parts.join(', ')}` : spec.op;
}

// ---- CRF programs and the configuration row (HARDWARE.md 3.3) -----------------

export const CRF_ENTRIES = 32;
const WORDS_PER_BURST = 8;
const LANES_PER_BURST = 16;

/**
 * Packs CRF words for configuration-row columns 4..7: 8 words per 32-byte
 * burst, each word little-endian as two FP16 lanes (low half first). The last
 * burst is padded with zero words (NOP 0), which only run after EXIT if ever.
 */
export function programToBursts(words: readonly number[], crfEntries = CRF_ENTRIES): Uint16Array {
  if (words.length > crfEntries) fail('PIMC0904', `CRF program has ${words.length} instructions; the CRF holds ${crfEntries}, split the program`);
  const bursts = Math.ceil(words.length / WORDS_PER_BURST);
  const lanes = new Uint16Array(bursts * LANES_PER_BURST);
  words.forEach((w, i) => {
    lanes[2 * i] = w & 0xffff;
    lanes[2 * i + 1] = (w >>> 16) & 0xffff;
  });
  return lanes;
}

/** The inverse of programToBursts: every word the bursts hold, padding included. */
export function burstsToProgram(lanes: Uint16Array): number[] {
  if (lanes.length % LANES_PER_BURST) throw new Error(`internal: CRF bursts must be whole bursts of 16 lanes, got ${lanes.length}`);
  const words: number[] = [];
  for (let i = 0; i < lanes.length; i += 2) words.push((lanes[i]! | (lanes[i + 1]! << 16)) >>> 0);
  return words;
}

/**
 * The control word (configuration row column 0), byte 0 of the burst:
 * bit 0 PIM op mode (HARDWARE.md 3.3: setting it enters AB-PIM and resets PC);
 * bit 1 clear GRF_B on entry [ours]: zeroes every PCU's GRF_B as AB-PIM is
 * entered, so a GEMV starts its accumulation from zero without 8 extra GRF_B
 * writes per round. Other bits are reserved and written as zero.
 */
export interface ControlWord {
  pimMode: boolean;
  clearGrfB: boolean;
}

export const CONTROL_BITS = { pimMode: 1, clearGrfB: 2 } as const;

export function controlBurst(c: ControlWord): Uint16Array {
  const lanes = new Uint16Array(LANES_PER_BURST);
  lanes[0] = (c.pimMode ? CONTROL_BITS.pimMode : 0) | (c.clearGrfB ? CONTROL_BITS.clearGrfB : 0);
  return lanes;
}

/** Reads byte 0 of a control burst; reserved bits are ignored, as the hardware does. */
export function parseControlBurst(lanes: Uint16Array): ControlWord {
  const byte0 = (lanes[0] ?? 0) & 0xff;
  return { pimMode: (byte0 & CONTROL_BITS.pimMode) !== 0, clearGrfB: (byte0 & CONTROL_BITS.clearGrfB) !== 0 };
}
