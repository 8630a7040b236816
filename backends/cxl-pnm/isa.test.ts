// The descriptor and tensor-table encodings: round trips of random values of
// every opcode (bytes, program images and text), one encoding written out by
// hand from the layout in isa.ts, and every kind of malformed word refused
// with PIMC1204 naming index and offset. (Syntax errors: asm.test.ts.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPimcError } from '../../ir/diagnostics.js';
import { parsePnm, printPnm } from './asm.js';
import { decodeProgram, encodeProgram } from './binary.js';
import { NO_TENSOR, type Descriptor, type PnmDtype, type PnmProgram, type TensorEntry } from './instr.js';
import { decodeDescriptor, decodeEntry, DESCRIPTOR_BYTES, encodeDescriptor, encodeEntry, ENTRY_BYTES, flagMask, ISA, SLOTS, type OpSpec } from './isa.js';

const SEED = 20240611;

// ---- arbitraries: valid encodings (every field in range; ids need not name real entries) ----

const id = fc.integer({ min: 0, max: NO_TENSOR - 1 });

export const descriptorArb = (spec: OpSpec): fc.Arbitrary<Descriptor> =>
  fc.record({
    flags: fc.integer({ min: 0, max: flagMask(spec) }),
    out: id,
    ins: fc.tuple(...SLOTS.map((slot, i) =>
      spec.ins[i] === undefined ? fc.constant(NO_TENSOR) : spec.optional.includes(slot) ? fc.oneof(fc.constant(NO_TENSOR), id) : id)),
    imm: spec.imm === 'f32' ? fc.float({ noNaN: true }) : spec.imm === 'u32' ? fc.integer({ min: 0, max: 0xffffffff }) : fc.constant(0),
  }).map(({ flags, out, ins, imm }) => ({ op: spec.op, flags, out, in0: ins[0], in1: ins[1], in2: ins[2], imm }));

export const anyDescriptor = fc.oneof(...ISA.map(descriptorArb));

export const entryArb: fc.Arbitrary<TensorEntry> = fc.integer({ min: 1, max: 4 }).chain((rank) =>
  fc.record({
    addr: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    dtype: fc.constantFrom<PnmDtype>('f16', 'f32', 'i32'),
    dims: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: rank, maxLength: rank }),
    strides: fc.array(fc.integer({ min: -0x80000000, max: 0x7fffffff }), { minLength: rank, maxLength: rank }),
  }));

export const programArb: fc.Arbitrary<PnmProgram> = fc.record({
  name: fc.string({ maxLength: 12 }),
  table: fc.array(entryArb, { maxLength: 6 }),
  queues: fc.array(fc.array(anyDescriptor, { maxLength: 6 }), { maxLength: 4 }),
});

function error(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isPimcError(e)) return e.message;
    throw e;
  }
  return 'no error';
}

const words = (b: Uint8Array) => Array.from(new Uint32Array(b.slice().buffer), (w) => `0x${w.toString(16).padStart(8, '0')}`);
const fromWords = (ws: number[]) => new Uint8Array(new Uint32Array(ws).buffer);

describe('PNM descriptor encoding', () => {
  it.each(ISA.map((s) => [s.op, s] as const))('round-trips random %s descriptors', (_, spec) => {
    fc.assert(fc.property(descriptorArb(spec), (d) => {
      const bytes = encodeDescriptor(d);
      expect(bytes.length).toBe(DESCRIPTOR_BYTES);
      expect(decodeDescriptor(bytes, 0, 0)).toEqual(d);
    }), { seed: SEED, numRuns: 200 });
  });

  it('puts the fields where isa.ts says', () => {
    const d: Descriptor = { op: 'attention', flags: 0, out: 3, in0: 0, in1: 1, in2: 2, imm: 0.125 };
    // w0 = opcode 0x02 | flags 0 << 8 | out 3 << 16; w1 = in0 | in1 << 16; w2 = in2; w3 = float32 bits of 0.125
    expect(words(encodeDescriptor(d))).toEqual(['0x00030002', '0x00010000', '0x00000002', '0x3e000000']);
    const g: Descriptor = { op: 'gelu', flags: 1, out: 0xfffe, in0: 7, in1: NO_TENSOR, in2: NO_TENSOR, imm: 0 };
    expect(words(encodeDescriptor(g))).toEqual(['0xfffe0113', '0xffff0007', '0x0000ffff', '0x00000000']);
    const k: Descriptor = { op: 'kv_append', flags: 0, out: 1, in0: 2, in1: NO_TENSOR, in2: NO_TENSOR, imm: 4000000000 };
    expect(words(encodeDescriptor(k))).toEqual(['0x00010030', '0xffff0002', '0x0000ffff', '0xee6b2800']);
  });

  it('refuses malformed descriptors with PIMC1204, naming index and byte offset', () => {
    const good = [0x00030002, 0x00010000, 0x00000002, 0x3e000000];
    const cases: [number[], RegExp][] = [
      [[0x00030000, ...good.slice(1)], /unknown opcode 0x0/],
      [[0x000300ff, ...good.slice(1)], /unknown opcode 0xff/],
      [[0x00030102, ...good.slice(1)], /attention defines flag bits 0, found 1/],
      [[good[0]!, good[1]!, 0x00010002, good[3]!], /word 2, byte offset 104\): reserved bits 31:16/],
      [[0xffff0002, ...good.slice(1)], /has no output/],
      [[good[0]!, 0xffff0000, good[2]!, good[3]!], /attention needs operand in1 \(k\)/],
      [[0x00030013, 0xffff0000, 0x00000005, 0], /gelu has no operand in2, found id 5/],
      [[0x00030013, 0xffff0000, 0x0000ffff, 1], /gelu has no immediate/],
      [[good[0]!, good[1]!, good[2]!, 0x7fc00000], /scale is NaN/],
    ];
    for (const [ws, re] of cases) {
      // Descriptor 6 of a queue that starts at file byte 0: byte offset 96 + 4 * word.
      const msg = error(() => decodeDescriptor(fromWords(ws), 0, 6, 'the queue of unit 2', 96));
      expect(msg, ws.join(',')).toMatch(/^PIMC1204: malformed PNM descriptor 6 of the queue of unit 2 \(word \d, byte offset \d+\)/);
      expect(msg).toMatch(re);
    }
    expect(error(() => decodeDescriptor(new Uint8Array(10), 0, 0))).toMatch(/PIMC1204: .*truncated: 10 of 16 bytes/);
  });
});

describe('PNM tensor-table entries', () => {
  it('round-trip random entries of every rank and dtype', () => {
    fc.assert(fc.property(entryArb, (e) => {
      const bytes = encodeEntry(e);
      expect(bytes.length).toBe(ENTRY_BYTES);
      expect(decodeEntry(bytes, 0, 0)).toEqual(e);
    }), { seed: SEED, numRuns: 300 });
  });

  it('puts the fields where isa.ts says', () => {
    const b = encodeEntry({ addr: 0x12_3456_7890, dtype: 'f32', dims: [3, 5], strides: [-5, 1] });
    // w0: dtype 2 | rank 2 << 2 | addr bits 47:32 (0x12) << 16
    expect(words(b)).toEqual(['0x0012000a', '0x34567890', '0x00000003', '0x00000005', '0x00000000', '0x00000000', '0xfffffffb', '0x00000001', '0x00000000', '0x00000000']);
  });

  it('refuses malformed entries with PIMC1204, naming the entry and byte offset', () => {
    const base = [0x0000000a, 0, 3, 5, 0, 0, 5, 1, 0, 0];
    const cases: [number, number, RegExp][] = [
      [0, 0x00000008, /dtype code 0/],
      [0, 0x00000001, /rank 0 is not 1..4/],
      [0, 0x00000015, /rank 5 is not 1..4/],
      [0, 0x0000002a, /reserved bits 15:5/],
      [4, 7, /word 4, byte offset 216\): dim 2 is 7 past rank 2/],
      [9, 1, /stride 3 is 1 past rank 2/],
    ];
    for (const [w, v, re] of cases) {
      const ws = [...base];
      ws[w] = v;
      const msg = error(() => decodeEntry(fromWords(ws), 0, 5, 200));
      expect(msg).toMatch(/^PIMC1204: malformed PNM tensor-table entry 5 \(word \d, byte offset \d+\)/);
      expect(msg).toMatch(re);
    }
  });
});

describe('PNM program images', () => {
  it('round-trip random programs, as bytes and as text', () => {
    fc.assert(fc.property(programArb, (p) => {
      expect(decodeProgram(encodeProgram(p))).toEqual(p);
      const text = printPnm(p);
      expect(parsePnm(text)).toEqual(p);
      expect(printPnm(parsePnm(text))).toBe(text);
    }), { seed: SEED, numRuns: 300 });
  });

  it('refuse corrupt images with PIMC1204 and the offset', () => {
    const p = { name: 'x', table: [{ addr: 0, dtype: 'f16' as const, dims: [4], strides: [1] }], queues: [[{ op: 'copy' as const, flags: 0, out: 0, in0: 0, in1: NO_TENSOR, in2: NO_TENSOR, imm: 0 }]] };
    const img = encodeProgram(p);
    expect(error(() => decodeProgram(img.subarray(0, img.length - 1)))).toMatch(/PIMC1204: malformed PNM program at byte offset \d+: \d+ bytes; the header describes/);
    const bad = img.slice();
    bad[0] = 0;
    expect(error(() => decodeProgram(bad))).toMatch(/PIMC1204: malformed PNM program at byte offset 0: not a PNM program/);
    const op = img.slice();
    op[img.length - 16] = 0x77; // the descriptor's opcode byte
    expect(error(() => decodeProgram(op))).toMatch(/PIMC1204: malformed PNM descriptor 0 of the queue of unit 0 \(word 0, byte offset \d+\): unknown opcode 0x77/);
  });
});
