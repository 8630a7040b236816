// The ISA table against HARDWARE.md 3.2: known encodings, every field's bits,
// round trips of random instructions, reserved opcodes, CRF bursts and the
// control word.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPimcError } from '../../ir/diagnostics.js';
import {
  burstsToProgram, controlBurst, decode, encode, fieldMax, formatInstr, instrProblem, ISA, OP_SPEC, OPERAND,
  parseControlBurst, pimInstr, programToBursts, RESERVED_OPCODES, strayBits, validateIsa, type OpSpec, type PimInstr,
} from './isa.js';

/** The published encodings (HARDWARE.md 3.2), as instructions built field by field. */
const KNOWN: [string, number, PimInstr][] = [
  ['MAC GRF_B, GRF_A, EVEN_BANK, aam', 0x3b108000, pimInstr('MAC', { dst: OPERAND.GRF_B, src0: OPERAND.GRF_A, src1: OPERAND.EVEN_BANK, aam: true })],
  ['JUMP 127, -2', 0xe003f802, pimInstr('JUMP', { count: 127, offset: 2 })],
  ['FILL GRF_B, ODD_BANK', 0x9ac00000, pimInstr('FILL', { dst: OPERAND.GRF_B, src0: OPERAND.ODD_BANK })],
  ['ADD GRF_B, GRF_B, ODD_BANK, aam', 0x1b588000, pimInstr('ADD', { dst: OPERAND.GRF_B, src0: OPERAND.GRF_B, src1: OPERAND.ODD_BANK, aam: true })],
  ['EXIT', 0xf0000000, pimInstr('EXIT')],
];

/** Bit ranges written out independently of isa.ts, straight from HARDWARE.md 3.2. */
const ARITH = { dst: [27, 25], src0: [24, 22], src1: [21, 19], aam: [15, 15], dstIdx: [11, 8], src0Idx: [7, 4], src1Idx: [3, 0] };
const DATA = { dst: [27, 25], src0: [24, 22], relu: [12, 12], dstIdx: [11, 8], src0Idx: [7, 4] };
const LAYOUT: Record<string, [number, Record<string, number[]>]> = {
  NOP: [0, { count: [10, 0] }],
  ADD: [1, ARITH], MUL: [2, ARITH], MAC: [3, ARITH], MAD: [4, { ...ARITH, src2: [18, 16] }],
  MOV: [8, DATA], FILL: [9, DATA],
  JUMP: [14, { count: [27, 11], offset: [10, 0] }],
  EXIT: [15, {}],
};

const hex = (w: number) => `0x${w.toString(16).padStart(8, '0')}`;

/** A random instruction with every field of its opcode in range and the rest at defaults. */
const instrArb = (spec: OpSpec): fc.Arbitrary<PimInstr> =>
  fc.tuple(...spec.fields.map((fd) => fc.integer({ min: 0, max: fieldMax(fd) }))).map((vals) => {
    const i = pimInstr(spec.op) as unknown as Record<string, number | boolean | string>;
    spec.fields.forEach((fd, k) => { i[fd.key] = fd.key === 'aam' || fd.key === 'relu' ? vals[k] === 1 : vals[k]!; });
    return i as unknown as PimInstr;
  });
const anyInstr = fc.oneof(...ISA.map(instrArb));

function pimcCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isPimcError(e)) return `${e.code}: ${e.detail}`;
    throw e;
  }
  return 'no error';
}

describe('HBM-PIM ISA table', () => {
  it.each(KNOWN)('%s encodes to its published word and back', (text, word, instr) => {
    expect(hex(encode(instr))).toBe(hex(word));
    expect(decode(word, 'test')).toEqual(instr);
    expect(formatInstr(decode(word, 'test'))).toBe(text);
  });

  it('puts every field where HARDWARE.md 3.2 says, and nothing else', () => {
    expect(ISA.map((s) => s.op).sort()).toEqual(Object.keys(LAYOUT).sort());
    for (const spec of ISA) {
      const [code, fields] = LAYOUT[spec.op]!;
      expect(spec.code, spec.op).toBe(code);
      expect(spec.fields.map((f) => f.key).sort(), spec.op).toEqual(Object.keys(fields).sort());
      for (const [key, [hi, lo]] of Object.entries(fields)) {
        // Only this field at its maximum: the word is the opcode plus exactly bits hi..lo.
        const fd = spec.fields.find((f) => f.key === key)!;
        const instr = pimInstr(spec.op, { [key]: key === 'aam' || key === 'relu' ? true : fieldMax(fd) });
        const expected = ((code * 2 ** 28) + (2 ** (hi! + 1) - 2 ** lo!)) >>> 0;
        expect(hex(encode(instr)), `${spec.op}.${key}`).toBe(hex(expected));
      }
    }
  });

  it('round-trips random valid instructions of every opcode', () => {
    fc.assert(fc.property(anyInstr, (i) => {
      const w = encode(i);
      expect(strayBits(w)).toBe(0);
      expect(decode(w, 'prop')).toEqual(i);
    }), { numRuns: 3000, seed: 3201 });
  });

  it('round-trips random canonical words: decode then encode gives the word back', () => {
    const valid = ISA.map((s) => s.code);
    fc.assert(fc.property(fc.constantFrom(...valid), fc.integer({ min: 0, max: 0x0fffffff }), (op, low) => {
      const raw = (op * 2 ** 28 + low) >>> 0;
      const canonical = (raw & ~strayBits(raw)) >>> 0;
      expect(hex(encode(decode(raw, 'prop')))).toBe(hex(canonical));
    }), { numRuns: 3000, seed: 3202 });
  });

  it('refuses every reserved opcode with PIMC0905, naming the word and the place', () => {
    expect(RESERVED_OPCODES).toEqual([5, 6, 7, 10, 11, 12, 13]);
    for (const op of RESERVED_OPCODES) {
      fc.assert(fc.property(fc.integer({ min: 0, max: 0x0fffffff }), (low) => {
        const w = (op * 2 ** 28 + low) >>> 0;
        const msg = pimcCode(() => decode(w, 'CRF entry 3 of pCH 7'));
        expect(msg).toMatch(/^PIMC0905: /);
        expect(msg).toContain(`0x${w.toString(16).toUpperCase().padStart(8, '0')}`);
        expect(msg).toContain('CRF entry 3 of pCH 7');
      }), { numRuns: 50, seed: op });
    }
  });

  it('reports bits outside an opcode\'s fields as stray (decode ignores them, as hardware does)', () => {
    expect(strayBits(0x9ac00000)).toBe(0);
    expect(strayBits(0x9ac08000)).toBe(0x8000); // FILL has no AAM bit
    expect(strayBits(0x1b590000)).toBe(0x10000); // ADD has no src2
    expect(strayBits(0xf0000001)).toBe(1);
    expect(decode(0xf0000001, 'x')).toEqual(pimInstr('EXIT'));
  });

  it('refuses to encode a field out of range or foreign to the opcode', () => {
    expect(instrProblem(pimInstr('NOP', { count: 2048 }))).toMatch(/count 2048 is outside 0..2047/);
    expect(instrProblem(pimInstr('MOV', { aam: true }))).toMatch(/MOV has no aam/);
    expect(instrProblem(pimInstr('MAC', { dst: 8 }))).toMatch(/dst 8/);
    expect(instrProblem(pimInstr('JUMP', { count: 0x1ffff, offset: 2047 }))).toBeUndefined();
    expect(() => encode(pimInstr('ADD', { src2: 1 }))).toThrow(/internal: .*ADD has no src2/);
  });

  it('validates the table itself', () => {
    expect(() => validateIsa()).not.toThrow();
    const mac = OP_SPEC.get('MAC')!;
    expect(() => validateIsa([{ ...mac, fields: [...mac.fields, { key: 'src2', hi: 16, lo: 15 }] }])).toThrow(/overlaps/);
    expect(() => validateIsa([{ ...mac, fields: [{ key: 'dst', hi: 28, lo: 25 }] }])).toThrow(/outside 27:0/);
    expect(() => validateIsa([mac, { ...mac, op: 'ADD' }])).toThrow(/repeated opcode/);
    expect(() => validateIsa([{ ...mac, flags: ['relu'] }])).toThrow(/relu, which has no field/);
  });

  it('formats indices and flags', () => {
    expect(formatInstr(pimInstr('MAD', { dst: 5, src0: 4, src1: 2, src2: 7, dstIdx: 3, src0Idx: 15, aam: true }))).toBe('MAD GRF_B[3], GRF_A[15], EVEN_BANK, SRF_A, aam');
    expect(formatInstr(pimInstr('MOV', { dst: 4, src0: 3, relu: true }))).toBe('MOV GRF_A, ODD_BANK, relu');
    expect(formatInstr(pimInstr('NOP', { count: 7 }))).toBe('NOP 7');
    expect(formatInstr(pimInstr('JUMP', { count: 3, offset: 0 }))).toBe('JUMP 3, 0');
  });
});

describe('CRF bursts and the control word', () => {
  it('packs 8 little-endian words per burst of 16 lanes, padding with zero words', () => {
    const words = KNOWN.map(([, w]) => w);
    const lanes = programToBursts(words);
    expect(lanes).toHaveLength(16);
    expect([lanes[0], lanes[1]]).toEqual([0x8000, 0x3b10]);
    expect([lanes[8], lanes[9]]).toEqual([0x0000, 0xf000]);
    expect(Array.from(lanes.subarray(10))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(burstsToProgram(lanes)).toEqual([...words, 0, 0, 0]);
    expect(programToBursts([])).toHaveLength(0);
  });

  it('round-trips any program of up to 32 words', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 32 }), (words) => {
      const lanes = programToBursts(words);
      expect(lanes.length).toBe(Math.ceil(words.length / 8) * 16);
      expect(burstsToProgram(lanes).slice(0, words.length)).toEqual(words);
    }), { numRuns: 500, seed: 3203 });
  });

  it('refuses a program longer than the CRF with PIMC0904', () => {
    expect(pimcCode(() => programToBursts(new Array(33).fill(0)))).toMatch(/^PIMC0904: .*33 instructions; the CRF holds 32/);
    expect(pimcCode(() => programToBursts(new Array(9).fill(0), 8))).toMatch(/^PIMC0904: /);
  });

  it('puts PIM op mode in bit 0 and clear-GRF_B in bit 1 of byte 0', () => {
    expect(controlBurst({ pimMode: true, clearGrfB: false })[0]).toBe(1);
    expect(controlBurst({ pimMode: false, clearGrfB: true })[0]).toBe(2);
    expect(Array.from(controlBurst({ pimMode: true, clearGrfB: true }))).toEqual([3, ...new Array(15).fill(0)]);
    for (const pimMode of [false, true]) for (const clearGrfB of [false, true]) expect(parseControlBurst(controlBurst({ pimMode, clearGrfB }))).toEqual({ pimMode, clearGrfB });
    // Byte 1 and reserved bits of byte 0 do not count.
    expect(parseControlBurst(Uint16Array.of(0xfffc))).toEqual({ pimMode: false, clearGrfB: false });
  });
});
