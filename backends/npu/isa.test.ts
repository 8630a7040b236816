// The NPU ISA table and its encodings: a known word layout, round trips of
// random instructions of every opcode and function (fixed seed), every kind
// of malformed word, and the PNPU program format.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPimcError } from '../../ir/diagnostics.js';
import { decodeProgram, encodeProgram, NPU_MAGIC } from './binary.js';
import { view, type Instr, type NpuProgram, type View } from './instr.js';
import { decode, encode, INSTR_BYTES, INSTR_WORDS, ISA, mnemonic, OP_SPEC, VEC_BINARY, VEC_REDUCE, VEC_SCALAR, VEC_UNARY } from './isa.js';

const SEED = 20240611;

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const viewArb: fc.Arbitrary<View> = fc.record({
  space: fc.constantFrom('dram', 'shared', 'spad'),
  addr: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 2 ** 48 - 1 })),
  dtype: fc.constantFrom('f16', 'f32', 'i32'),
  shape: fc.tuple(u32, u32, u32),
  strides: fc.tuple(...[0, 1, 2].map(() => fc.integer({ min: -0x80000000, max: 0x7fffffff }))) as fc.Arbitrary<[number, number, number]>,
});
const f32 = fc.float(); // every float32, NaN, -0 and infinities included

/** A random instruction of one table row (and one function, for vec ops). */
function instrArb(op: Instr['op'], fn?: string): fc.Arbitrary<Instr> {
  const spec = OP_SPEC.get(op)!;
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const k of spec.scalars) fields[k] = k === 'accumulate' ? fc.boolean() : k === 'imm' ? f32 : u32;
  for (const k of spec.views) fields[k] = viewArb;
  return fc.record(fields).map((r) => ({ op, ...(fn ? { fn } : {}), ...r }) as unknown as Instr);
}
type Case = [Instr['op'], string | undefined];
const CASES: Case[] = ISA.flatMap((s): Case[] => (s.fns ? s.fns.map((f): Case => [s.op, f]) : [[s.op, undefined]]));
const anyInstr = fc.oneof(...CASES.map(([op, fn]) => instrArb(op, fn)));

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isPimcError(e)) return `${e.code}: ${e.detail}`;
    throw e;
  }
  return 'no error';
}

describe('NPU ISA table', () => {
  it('has every op of instr.ts, unique opcodes, and the fn lists of instr.ts', () => {
    expect(ISA.map((s) => s.op)).toEqual(['dma.load', 'dma.store', 'dma.gather', 'wait.dma', 'matmul', 'vec.unary', 'vec.binary', 'vec.scalar', 'vec.reduce', 'signal', 'wait.sem', 'end']);
    expect(new Set(ISA.map((s) => s.code)).size).toBe(ISA.length);
    expect(ISA.every((s) => s.code > 0 && s.code < 256)).toBe(true);
    expect(VEC_UNARY.length + VEC_BINARY.length + VEC_SCALAR.length + VEC_REDUCE.length).toBe(28);
  });

  it('lays a dma.load out as documented', () => {
    const ins: Instr = { op: 'dma.load', tag: 3, dst: view('spad', 0x100, 'f16', [64, 128]), src: { ...view('dram', 0x1_2345_6780, 'f16', [64, 128], [4096, 1]), strides: [0, 4096, -1] } };
    const w = encode(ins);
    expect(w.length).toBe(INSTR_WORDS);
    expect(Array.from(w.subarray(0, 8))).toEqual([0x01, 3, 0, 0, 0, 0, 0, 0]);
    // slot 0 = dst: spad (3), f16 (1 << 2), address 0x100
    expect(Array.from(w.subarray(8, 16))).toEqual([3 | (1 << 2), 0x100, 1, 64, 128, 8192, 128, 1]);
    // slot 1 = src: dram (1), f16, address bits 47:32 = 1 in the top half of the meta word
    expect(Array.from(w.subarray(16, 24))).toEqual([1 | (1 << 2) | (1 << 16), 0x2345_6780, 1, 64, 128, 0, 4096, 0xffffffff]);
    expect(Array.from(w.subarray(24))).toEqual(new Array(8).fill(0));
    expect(decode(w)).toEqual(ins);
  });

  it('puts fn, the accumulate flag, imm and count where documented', () => {
    const v = view('spad', 0, 'f32', [4]);
    expect(encode({ op: 'vec.unary', fn: 'erf', dst: v, a: v })[0]).toBe(0x20 | (6 << 8));
    expect(encode({ op: 'matmul', accumulate: true, c: v, a: v, b: v })[0]).toBe(0x10 | (1 << 16));
    expect(encode({ op: 'vec.scalar', fn: 'muls', dst: v, a: v, imm: 0.125 })[2]).toBe(0x3e000000);
    expect(Array.from(encode({ op: 'wait.sem', sem: 7, count: 2 }).subarray(0, 3))).toEqual([0x31, 7, 2]);
  });

  it.each(CASES.map(([op, fn]) => [fn ? `${op} ${fn}` : op, op, fn] as const))('%s round-trips through encode and decode', (_, op, fn) => {
    fc.assert(fc.property(instrArb(op, fn), (ins) => {
      expect(decode(encode(ins))).toEqual(ins);
    }), { seed: SEED, numRuns: 40 });
  });

  it('names mnemonics', () => {
    const v = view('spad', 0, 'f32', [4]);
    expect(mnemonic({ op: 'matmul', accumulate: true, c: v, a: v, b: v })).toBe('matmul.acc');
    expect(mnemonic({ op: 'vec.reduce', fn: 'rmax', dst: v, a: v })).toBe('vec.rmax');
    expect(mnemonic({ op: 'wait.dma', tag: 0 })).toBe('wait.dma');
  });

  it('refuses to encode what the format cannot hold (a producer bug)', () => {
    const v = view('spad', 0, 'f32', [4]);
    expect(() => encode({ op: 'wait.dma', tag: -1 })).toThrow(/internal: .*tag -1/);
    expect(() => encode({ op: 'vec.unary', fn: 'nope' as 'exp', dst: v, a: v })).toThrow(/no function "nope"/);
    expect(() => encode({ op: 'vec.unary', fn: 'exp', dst: { ...v, addr: 2 ** 48 }, a: v })).toThrow(/address/);
    expect(() => encode({ op: 'vec.unary', fn: 'exp', dst: { ...v, strides: [0, 0, 2 ** 31] }, a: v })).toThrow(/strides/);
  });
});

describe('malformed NPU instruction words (PIMC1007, naming word and byte offset)', () => {
  const v = view('spad', 0x40, 'f16', [2, 8]);
  const good = (): Uint32Array => {
    const w = new Uint32Array(2 * INSTR_WORDS);
    encode({ op: 'end' }, w, 0);
    encode({ op: 'vec.binary', fn: 'add', dst: v, a: v, b: v }, w, INSTR_WORDS);
    return w;
  };
  const at = INSTR_WORDS; // the second instruction
  const cases: [string, (w: Uint32Array) => void, RegExp][] = [
    ['unknown opcode', (w) => { w[at] = 0x55; }, /word 32 \(byte offset 1128\): unknown opcode 0x55/],
    ['opcode 0 (a zeroed word)', (w) => { w[at] = 0; }, /word 32 .*unknown opcode 0x0/],
    ['unknown fn', (w) => { w[at] = 0x21 | (9 << 8); }, /word 32 .*unknown vec.binary function 9/],
    ['fn on an op without one', (w) => { w[0] = 0x3f | (1 << 8); }, /word 0 \(byte offset 1000\): end has no function/],
    ['reserved bits of word 0', (w) => { w[at]! |= 1 << 20; }, /word 32 .*reserved bits 31:17/],
    ['accumulate flag on a vec op', (w) => { w[at]! |= 1 << 16; }, /word 32 .*no accumulate flag/],
    ['a reserved word', (w) => { w[at + 5] = 1; }, /word 37 \(byte offset 1148\): reserved word/],
    ['a tag on an op without one', (w) => { w[at + 1] = 4; }, /word 33 .*reserved word/],
    ['space code 0', (w) => { w[at + 8]! &= ~3; }, /word 40 .*view dst: space code 0/],
    ['dtype code 0', (w) => { w[at + 16]! &= ~12; }, /word 48 .*view a: dtype code 0/],
    ['reserved view bits', (w) => { w[at + 24]! |= 1 << 8; }, /word 56 .*view b: reserved bits 15:4/],
    ['an unused view slot', (w) => { w[30] = 7; }, /word 30 .*end has no view slot 2/],
  ];
  it.each(cases)('%s', (_, spoil, msg) => {
    const w = good();
    expect(() => decode(w, 0, 1000)).not.toThrow();
    spoil(w);
    const err = code(() => { decode(w, 0, 1000); decode(w, at, 1000); });
    expect(err).toMatch(/^PIMC1007: malformed NPU instruction at /);
    expect(err).toMatch(msg);
  });

  it('a truncated instruction', () => {
    expect(code(() => decode(new Uint32Array(40), 32))).toMatch(/^PIMC1007: .*word 32 .*truncated: 8 of 32 words/);
  });

  it('random words either decode to an instruction that re-encodes to them, or give PIMC1007', () => {
    const word = fc.oneof(u32, fc.constantFrom(0, 1, 0x21, 0x0d, 0x10001));
    fc.assert(fc.property(fc.array(word, { minLength: INSTR_WORDS, maxLength: INSTR_WORDS }), fc.integer({ min: 1, max: 0x3f }), (ws, op) => {
      const w = Uint32Array.from(ws);
      w[0] = op | (w[0]! & 0x100);
      let ins: Instr;
      try {
        ins = decode(w);
      } catch (e) {
        expect(isPimcError(e) && e.code).toBe('PIMC1007');
        return;
      }
      expect(Array.from(encode(ins))).toEqual(Array.from(w));
    }), { seed: SEED, numRuns: 300 });
  });
});

describe('PNPU program binary', () => {
  const progArb: fc.Arbitrary<NpuProgram> = fc.record({
    name: fc.string({ maxLength: 12, unit: 'grapheme' }),
    engines: fc.array(fc.array(anyInstr, { maxLength: 4 }), { maxLength: 4 }),
  });

  it('round-trips random programs byte for byte', () => {
    fc.assert(fc.property(progArb, (p) => {
      const bytes = encodeProgram(p);
      const back = decodeProgram(bytes);
      expect(back).toEqual(p);
      expect(encodeProgram(back)).toEqual(bytes);
    }), { seed: SEED, numRuns: 100 });
  });

  it('has the documented header', () => {
    const bytes = encodeProgram({ name: 'ab', engines: [[{ op: 'end' }], [], [{ op: 'signal', sem: 1 }, { op: 'end' }]] });
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe(NPU_MAGIC);
    const dv = new DataView(bytes.buffer);
    expect([1, 2, 3, 4, 5, 6].map((i) => dv.getUint32(4 * i, true))).toEqual([1, 3, 2, 1, 0, 2]);
    expect(bytes.length).toBe(28 + 4 + 3 * INSTR_BYTES);
    expect(bytes[28 + 4]).toBe(0x3f); // engine 0's end
  });

  const base = () => encodeProgram({ name: 'k', engines: [[{ op: 'wait.dma', tag: 1 }, { op: 'end' }]] });
  const cases: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ['bad magic', (b) => { b[0] = 0x58; return b; }, /byte offset 0: magic "XNPU"/],
    ['a newer version', (b) => { b[4] = 2; return b; }, /byte offset 4: version 2/],
    ['a short header', (b) => b.subarray(0, 10), /shorter than the 16-byte header/],
    ['too many engines', (b) => { b[11] = 0x10; return b; }, /byte offset 8: 268435457 engines/],
    ['a truncated body', (b) => b.subarray(0, b.length - 4), /bytes, but the header \(2 instructions\) says/],
    ['trailing bytes', (b) => Uint8Array.from([...b, 0, 0, 0, 0]), /says/],
    ['non-zero name padding', (b) => { b[21] = 1; return b; }, /byte offset 21: name padding/],
    ['a name that is not UTF-8', (b) => { b[20] = 0xff; return b; }, /byte offset 20: program name is not UTF-8/],
    ['a bad instruction word', (b) => { b[24 + INSTR_BYTES] = 0x77; return b; }, /word 32 \(byte offset 152\): unknown opcode 0x77/],
  ];
  it.each(cases)('refuses %s with PIMC1007', (_, spoil, msg) => {
    expect(() => decodeProgram(base())).not.toThrow();
    const err = code(() => decodeProgram(spoil(base())));
    expect(err).toMatch(/^PIMC1007: /);
    expect(err).toMatch(msg);
  });
});
