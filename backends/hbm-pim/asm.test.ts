// The .pimasm text form and the PIMP / PIMS binaries: round trips of programs
// and streams (nested loops, odd tag names), coded one-line errors for bad
// text and bytes (fuzzed), and `pimc asm` / `pimc disasm` in-process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { isPimcError } from '../../ir/diagnostics.js';
import { runCli } from '../../compiler/cli/main.js';
import type { Command, Loop, PchStream, StreamItem } from '../../runtime-sim/hbm/stream.js';
import { assemble, disassemble, parseAsm, parseInstr, printAsm, printStream } from './asm.js';
import { COMMAND_KINDS, decodeProgram, decodeStream, decodeUnit, encodeProgram, encodeStream, encodeUnit, type CrfProgram, type PchStreamUnit } from './binary.js';
import { CRF_ENTRIES, encode, fieldMax, formatInstr, ISA, pimInstr, programToBursts, type OpSpec, type PimInstr } from './isa.js';
import { FOLLOW_COL, FOLLOW_DATA, FOLLOW_ROW, StreamBuilder } from './stream-builder.js';

const GEMV = `# the GEMV program of HARDWARE.md 3.5
program gemv {
  MAC GRF_B, GRF_A, EVEN_BANK, aam
  JUMP 7, -1
  MAC GRF_B, GRF_A, ODD_BANK, aam
  JUMP 7, -1
  NOP 7
  EXIT
}
`;

/** A stream shaped like a real kernel, made by the backend's builder. */
function kernelStream(): PchStreamUnit {
  const b = new StreamBuilder();
  b.parkAndEnterAllBank();
  b.act(0, 0x3fff, { tag: 'PROGRAM_CRF' });
  b.configWrite(0, 4, programToBursts((parseAsm(GEMV) as CrfProgram).instrs.map(encode)));
  b.loop(4, { data: 8 }, (l) => l.loop(8, { data: 1 }, (m) => m.wr(0, 0x3fff, 8, { data: 0, tag: 'GRF_A', follow: FOLLOW_DATA })));
  b.loop(32, { row: 2 }, (l) => {
    l.act(0, 0).loop(64, { col: 1 }, (m) => m.rd(0, 0, 0, { tag: 'MAC', follow: FOLLOW_ROW | FOLLOW_COL })).pre(0);
  });
  b.data.add(new Uint16Array(64).map((_, i) => 0x3c00 + i));
  b.readbackBursts = 64;
  b.leaveAllBank().ref();
  return { kind: 'stream', pch: 5, stream: b.build() };
}

function pimcMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isPimcError(e)) return e.message;
    throw e;
  }
  return 'no error';
}

// ---- arbitraries -------------------------------------------------------------

const instrArb = (spec: OpSpec): fc.Arbitrary<PimInstr> =>
  fc.tuple(...spec.fields.map((fd) => fc.integer({ min: 0, max: fieldMax(fd) }))).map((vals) => {
    const i = pimInstr(spec.op) as unknown as Record<string, number | boolean | string>;
    spec.fields.forEach((fd, k) => { i[fd.key] = fd.key === 'aam' || fd.key === 'relu' ? vals[k] === 1 : vals[k]!; });
    return i as unknown as PimInstr;
  });
const anyInstr = fc.oneof(...ISA.map(instrArb));

// Names that must survive printing: keywords, mnemonics, address-like words, spaces, quotes, unicode.
const nameArb = fc.oneof(
  fc.constantFrom('MAC', 'GRF_A', 'PARK_IN', 'data', 'loop', 'tag', 'RD', 'b0', 'r0x3fff', 'c7', 'aam', '', ' ', 'a b', 'x#y', '"', '\\', '\n', '1', '-1', 'é', '🙂', 'program'),
  fc.string({ maxLength: 6, unit: 'binary' }),
);
const u31 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 0x7fffffff }));
const i32 = fc.oneof(fc.constant(0), fc.integer({ min: -8, max: 8 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }));

const streamArb: fc.Arbitrary<PchStreamUnit> = fc.uniqueArray(nameArb, { maxLength: 5 }).chain((tags) => {
  const command: fc.Arbitrary<Command> = fc.record({
    kind: fc.constantFrom(...COMMAND_KINDS), bank: u31, row: u31, col: u31,
    data: fc.oneof(fc.constant(-1), u31), tag: fc.integer({ min: -1, max: tags.length - 1 }), follow: fc.integer({ min: 0, max: 7 }),
  });
  const { items } = fc.letrec<{ items: StreamItem[]; loop: Loop }>((tie) => ({
    items: fc.array(fc.oneof({ maxDepth: 4, depthIdentifier: 'loop' }, command, tie('loop')), { maxLength: 4 }),
    loop: fc.record({ kind: fc.constant('LOOP' as const), count: u31, step: fc.record({ row: i32, col: i32, data: i32 }), body: tie('items') }),
  }));
  const burst = fc.oneof(fc.constant(new Array<number>(16).fill(0)), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 16, maxLength: 16 }));
  return fc.record({
    pch: u31, items, readbackBursts: u31,
    bursts: fc.array(burst, { maxLength: 3 }),
  }).map(({ pch, items, readbackBursts, bursts }): PchStreamUnit => ({
    kind: 'stream', pch, stream: { items, tags, readbackBursts, data: Uint16Array.from(bursts.flat()) } satisfies PchStream,
  }));
});

// ---- programs ----------------------------------------------------------------

describe('assembler: CRF programs', () => {
  it('reads the GEMV program and prints it canonically', () => {
    const u = parseAsm(GEMV);
    expect(u.kind).toBe('program');
    expect(printAsm(u)).toBe(GEMV.replace(/^#.*\n/, ''));
    if (u.kind !== 'program') return;
    expect(u.instrs.map(encode)).toEqual([0x3b108000, 0xe0003801, 0x3b188000, 0xe0003801, 0x00000007, 0xf0000000]);
  });

  it('accepts ; separators, comments, no spaces after commas, indices and quoted names', () => {
    const u = parseAsm('program "my prog" { MAC GRF_B[3],GRF_A[7],EVEN_BANK,aam ; JUMP 7,-1 # back\n MOV GRF_A[1], ODD_BANK, relu;;EXIT }');
    expect(printAsm(u)).toBe('program "my prog" {\n  MAC GRF_B[3], GRF_A[7], EVEN_BANK, aam\n  JUMP 7, -1\n  MOV GRF_A[1], ODD_BANK, relu\n  EXIT\n}\n');
  });

  it('parses and formats every valid instruction back to itself', () => {
    fc.assert(fc.property(anyInstr, (i) => {
      expect(parseInstr(formatInstr(i))).toEqual(i);
    }), { numRuns: 2000, seed: 3301 });
  });

  it('round-trips random programs through text and binary', () => {
    fc.assert(fc.property(nameArb, fc.array(anyInstr, { maxLength: CRF_ENTRIES }), (name, instrs) => {
      const text = printAsm({ kind: 'program', name, instrs });
      const bin = assemble(text);
      expect(decodeProgram(bin)).toEqual({ kind: 'program', name, instrs });
      expect(disassemble(bin)).toBe(text);
      expect(encodeUnit(parseAsm(disassemble(bin)))).toEqual(bin);
    }), { numRuns: 500, seed: 3302 });
  });

  it.each([
    ['program p { MAC GRF_B }', /MAC takes 3 operand\(s\) \(dst, src0, src1\), found 1 at line 1:13/],
    ['program p {\n  ADD GRF_B, GRF_A, BANK\n}', /ADD src1: expected one of A_OUT, .*found "BANK" at line 2:21/],
    ['program p { FOO 1 }', /unknown instruction "FOO"; expected one of NOP, .* at line 1:13/],
    ['program p { NOP 2048 }', /count 2048 is outside 0..2047 at line 1:17/],
    ['program p { JUMP 7, 1 }', /offset \(a backward jump, written -N\) 1 is outside -2047..0 at line 1:21/],
    ['program p { MOV GRF_A, EVEN_BANK, aam }', /MOV has no aam flag at line 1:35/],
    ['program p { MAC GRF_B, GRF_A, EVEN_BANK, aam, aam }', /flag aam is given twice/],
    ['program p { MAD GRF_B, GRF_A, EVEN_BANK, SRF_A[1] }', /MAD src2 takes no index at line 1:48/],
    ['program p { MAC GRF_B[16], GRF_A, EVEN_BANK }', /dst index 16 is outside 0..15/],
    ['program p { EXIT NOP }', /EXIT takes 0 operand\(s\)/],
    ['program p { EXIT', /expected .*found end of input at line 1:17/],
    ['program p { EXIT } EXIT', /unexpected "EXIT" after the closing '}' at line 1:20/],
    ['program p { EXIT @ }', /unexpected character "@" at line 1:18/],
    [`program p {${' NOP 0;'.repeat(33)} }`, /program has 33 instructions; the CRF holds 32/],
  ])('refuses %j with a located PIMC0909', (text, re) => {
    const msg = pimcMessage(() => parseAsm(text, {}));
    expect(msg).toMatch(/^PIMC0909: assembly text does not parse: /);
    expect(msg).toMatch(re);
  });

  it('names the file in errors', () => {
    expect(pimcMessage(() => parseAsm('program p { FOO }', { fileName: 'k.pimasm' }))).toMatch(/at line 1:13 in "k.pimasm"$/);
  });
});

// ---- streams -----------------------------------------------------------------

describe('assembler: command streams', () => {
  it('reads the syntax of docs/hbm-pim-asm.md into the stream fields', () => {
    const u = parseAsm(`stream pch 2 {
      tags [MAC, "GRF A"]
      readback 8
      data 3 bursts { 1: 0x3c00 1 2 3 4 5 6 7 8 9 10 11 12 13 14 0xffff }
      ACT b0 r0x1000 ; RD b1 r2 c3 data 1 tag MAC follow row|col
      loop 32 step row 2 data 8 { WR c31 tag "GRF A" b15 r0x3fff follow data data 0 }
      REF
    }`);
    expect(u).toEqual({
      kind: 'stream', pch: 2, stream: {
        tags: ['MAC', 'GRF A'], readbackBursts: 8,
        data: Uint16Array.from([...new Array(16).fill(0), 0x3c00, ...Array.from({ length: 14 }, (_, i) => i + 1), 0xffff, ...new Array(16).fill(0)]),
        items: [
          { kind: 'ACT', bank: 0, row: 0x1000, col: 0, data: -1, tag: -1, follow: 0 },
          { kind: 'RD', bank: 1, row: 2, col: 3, data: 1, tag: 0, follow: FOLLOW_ROW | FOLLOW_COL },
          {
            kind: 'LOOP', count: 32, step: { row: 2, col: 0, data: 8 },
            body: [{ kind: 'WR', bank: 15, row: 0x3fff, col: 31, data: 0, tag: 1, follow: FOLLOW_DATA }],
          },
          { kind: 'REF', bank: 0, row: 0, col: 0, data: -1, tag: -1, follow: 0 },
        ],
      },
    });
    expect(printAsm(u)).toContain('  loop 32 step row 2 data 8 {\n    WR b15 r0x3fff c31 data 0 tag "GRF A" follow data\n  }\n');
  });

  it('prints the canonical form: addresses a kind uses always, other fields only when set', () => {
    const u = parseAsm('stream pch 1 { tags ["", x] PRE ; REF ; ACT ; RD ; WR data -1 tag "" follow data|row; PRE r3 c4 data 0; REF b2 tag x ; loop 0 step col 0 { } } # end');
    expect(printAsm(u)).toBe([
      'stream pch 1 {', '  tags ["", x]', '  PRE b0', '  REF', '  ACT b0 r0', '  RD b0 r0 c0', '  WR b0 r0 c0 tag "" follow row|data',
      '  PRE b0 r3 c4 data 0', '  REF b2 tag x', '  loop 0 {', '  }', '}', '',
    ].join('\n'));
  });

  it('round-trips a kernel-shaped stream through text and binary exactly', () => {
    const u = kernelStream();
    const text = printStream(u);
    expect(parseAsm(text)).toEqual(u);
    const bin = encodeStream(u);
    expect(decodeStream(bin)).toEqual(u);
    expect(disassemble(bin)).toBe(text);
    expect(assemble(text)).toEqual(bin);
    // Compact: loops stay loops.
    expect(bin.length).toBeLessThan(700);
  });

  it('round-trips random streams with nested loops: print(parse(print(s))) === print(s), structure and bytes', () => {
    fc.assert(fc.property(streamArb, (u) => {
      const text = printAsm(u);
      const back = parseAsm(text);
      expect(back).toEqual(u);
      expect(printAsm(back)).toBe(text);
      const bin = encodeUnit(u);
      expect(decodeUnit(bin)).toEqual(u);
      expect(assemble(text)).toEqual(bin);
    }), { numRuns: 400, seed: 3303 });
  });

  it.each([
    ['stream pch 0 { RD b0 tag Q }', /tag Q is not declared in tags \[...\] at line 1:26/],
    ['stream pch 0 { tags [A, A] }', /tag "A" is given twice at line 1:25/],
    ['stream pch 0 { readback 1 readback 2 }', /readback is given twice at line 1:27/],
    ['stream pch 0 { RD b0 b1 }', /a bank 'bN' is given twice at line 1:22/],
    ['stream pch 0 { RD follow row|row }', /follow row is given twice/],
    ['stream pch 0 { data 2 bursts { 1: 0 } }', /burst 1 has 1 lanes, a burst has 16/],
    ['stream pch 0 { data 2 bursts { 2: 0 } }', /burst index .* 2 is outside 0..1/],
    ['stream pch 0 { data 1 bursts { 0: 0x10000 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 } }', /lane 0x10000 is outside 0..65535/],
    ['stream pch 0 { RD data -2 }', /data -2 is outside -1..2147483647/],
    ['stream pch 0 { loop 2 step row 1 row 2 { } }', /step row is given twice/],
    ['stream pch 0 { loop -1 { } }', /loop count -1 is outside/],
    ['stream pch 0 { RD b0x }', /expected .*found "b0x"/],
    [`stream pch 0 {${' loop 1 {'.repeat(17)}${' }'.repeat(17)} }`, /loops nest deeper than 16 at line 1:160/],
  ])('refuses %j with a located PIMC0909', (text, re) => {
    const msg = pimcMessage(() => parseAsm(text));
    expect(msg).toMatch(/^PIMC0909: assembly text does not parse: /);
    expect(msg).toMatch(re);
  });

  it('survives absurd nesting with a PimcError, not a stack overflow', () => {
    const n = 20000;
    expect(pimcMessage(() => parseAsm(`stream pch 0 {${' loop 1 {'.repeat(n)}${' }'.repeat(n)} }`))).toMatch(/^PIMC0909: /);
  });

  it('refuses to print a malformed stream with PIMC0907', () => {
    const u = kernelStream();
    u.stream.tags.push('MAC');
    expect(pimcMessage(() => printStream(u))).toMatch(/^PIMC0907: .*tag "MAC" appears twice/);
  });
});

describe('docs/hbm-pim-asm.md', () => {
  it('has examples that assemble and round-trip', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/hbm-pim-asm.md'), 'utf8');
    const blocks = [...doc.matchAll(/```\n((?:program|stream) [^]*?)```/g)].map((m) => m[1]!);
    expect(blocks).toHaveLength(2);
    for (const b of blocks) {
      const text = printAsm(parseAsm(b));
      expect(disassemble(assemble(b))).toBe(text);
    }
  });
});

// ---- fuzzing ---------------------------------------------------------------------

type Edit = { kind: 'delete' | 'insert' | 'replace' | 'truncate' | 'duplicate'; at: number; n: number; piece: string };
const PIECES = ['{', '}', '[', ']', ',', ';', '|', ':', '-', '0x', '9', '99999999999', '"', '\\', '#', '\n', ' ', 'loop 1 {', 'data', 'tag', 'b1', 'r0x', 'aam', 'GRF_B[', 'JUMP', '\u0000', 'é'];
const editArb: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('delete', 'insert', 'replace', 'truncate', 'duplicate'), at: fc.nat(), n: fc.integer({ min: 1, max: 12 }), piece: fc.constantFrom(...PIECES),
});

function applyEdits<T extends string | Uint8Array>(base: T, edits: Edit[], byte: (e: Edit) => T): T {
  let s = base;
  for (const e of edits) {
    const at = s.length ? e.at % (s.length + 1) : 0;
    const cat = (...parts: T[]) => (typeof base === 'string' ? parts.join('') : Uint8Array.from(parts.flatMap((p) => Array.from(p as Uint8Array)))) as T;
    if (e.kind === 'delete') s = cat(s.slice(0, at) as T, s.slice(at + e.n) as T);
    else if (e.kind === 'insert') s = cat(s.slice(0, at) as T, byte(e), s.slice(at) as T);
    else if (e.kind === 'replace') s = cat(s.slice(0, at) as T, byte(e), s.slice(at + 1) as T);
    else if (e.kind === 'truncate') s = s.slice(0, at) as T;
    else s = cat(s.slice(0, at + e.n) as T, s.slice(at, at + e.n) as T, s.slice(at + e.n) as T);
  }
  return s;
}

describe('fuzzing', () => {
  const texts = [GEMV, printStream(kernelStream()), printAsm(parseAsm('program "q" { MAD GRF_B[1], GRF_A[2], SRF_M[3], SRF_A, aam ; MOV GRF_A, ODD_BANK, relu ; JUMP 3, -2 }'))];

  it('2,000 mutated texts give only one-line PIMC0909 errors, and what parses prints back stably', () => {
    let errors = 0;
    fc.assert(fc.property(fc.constantFrom(...texts), fc.array(editArb, { minLength: 1, maxLength: 3 }), (base, edits) => {
      const text = applyEdits(base, edits, (e) => e.piece);
      let u;
      try {
        u = parseAsm(text);
      } catch (e) {
        if (!isPimcError(e)) throw e;
        expect(e.code).toBe('PIMC0909');
        expect(e.message).not.toContain('\n');
        errors++;
        return;
      }
      const printed = printAsm(u);
      expect(printAsm(parseAsm(printed))).toBe(printed);
    }), { numRuns: 2000, seed: 3304 });
    expect(errors).toBeGreaterThan(500);
  });

  it('2,000 mutated binaries give only PimcErrors naming a byte, and what decodes re-encodes byte for byte', () => {
    const bins = texts.map((t) => assemble(t));
    let errors = 0;
    fc.assert(fc.property(fc.constantFrom(...bins), fc.array(editArb, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 255 }), (base, edits, b) => {
      const bytes = applyEdits(base, edits, (e) => Uint8Array.of((b + e.n) & 0xff));
      let u;
      try {
        u = decodeUnit(bytes);
      } catch (e) {
        if (!isPimcError(e)) throw e;
        expect(['PIMC0910', 'PIMC0905']).toContain(e.code);
        expect(e.message).toMatch(/byte \d+/);
        errors++;
        return;
      }
      expect(encodeUnit(u)).toEqual(bytes);
    }), { numRuns: 2000, seed: 3305 });
    expect(errors).toBeGreaterThan(1000);
  });

  it('refuses bytes the encoder would never write', () => {
    const prog = encodeProgram({ kind: 'program', name: 'p', instrs: [pimInstr('EXIT')] });
    const stray = prog.slice();
    stray[stray.length - 4] = 1; // EXIT with bit 0 set
    expect(pimcMessage(() => decodeProgram(stray))).toMatch(/^PIMC0910: .*word 0 0xF0000001 sets bits 0x00000001 outside its opcode's fields at byte 16/);
    const reserved = prog.slice();
    reserved[reserved.length - 1] = 0x50;
    expect(pimcMessage(() => decodeProgram(reserved))).toMatch(/^PIMC0905: reserved PIM opcode 5 in word 0x50000000 at PIM program word 0 \(byte 16\)/);
    expect(pimcMessage(() => decodeUnit(new TextEncoder().encode('program p {}')))).toMatch(/^PIMC0910: .*not a pimc PIM binary .*at byte 0/);
    const s = encodeStream({ kind: 'stream', pch: 0, stream: { items: [], tags: [], data: new Uint16Array(0), readbackBursts: 0 } });
    expect(pimcMessage(() => decodeStream(Uint8Array.from([...s.slice(0, 8), 0x80, 0x00, ...s.slice(9)])))).toMatch(/overlong varint for pCH at byte 8/);
    expect(pimcMessage(() => decodeStream(Uint8Array.from([...s, 0])))).toMatch(/1 trailing byte\(s\) at byte 13/);
  });
});

// ---- the CLI -----------------------------------------------------------------

describe('pimc asm / disasm', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-asm-'));
  });

  async function cli(args: string[]) {
    let out = '';
    let err = '';
    const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
    return { code, out, err };
  }

  const write = (name: string, data: string | Uint8Array) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, data);
    return f;
  };

  it.each([['program', GEMV], ['stream', printStream(kernelStream())]])('assembles and disassembles a %s exactly', async (_, text) => {
    const bin = path.join(dir, 'k.bin');
    const a = await cli(['asm', write('k.pimasm', text), '-o', bin]);
    expect(a).toEqual({ code: 0, out: '', err: '' });
    const d = await cli(['disasm', bin]);
    expect(d.code).toBe(0);
    expect(d.out).toBe(printAsm(parseAsm(text)));
    const bin2 = path.join(dir, 'k2.bin');
    expect((await cli(['asm', write('k2.pimasm', d.out), '-o', bin2])).code).toBe(0);
    expect(fs.readFileSync(bin2)).toEqual(fs.readFileSync(bin));
  });

  async function expectError(args: string[], code: string, mentions: string[], outFile?: string) {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(new RegExp(`^${code}: `));
    for (const m of mentions) expect(r.err).toContain(m);
    if (outFile) {
      expect(fs.existsSync(outFile)).toBe(false);
      expect(fs.readdirSync(dir).filter((f) => f.startsWith(`.${path.basename(outFile)}`))).toEqual([]);
    }
  }

  it('a bad text file: exit 2, one coded line with line:col, no output file', async () => {
    const out = path.join(dir, 'bad.bin');
    const src = write('bad.pimasm', 'program p {\n  MAC GRF_B, GRF_A, EVEN_BANK, aam\n  JUMP 7, +1\n}\n');
    await expectError(['asm', src, '-o', out], 'PIMC0909', ['line 3:11', 'bad.pimasm'], out);
  });

  it('a missing input, a missing -o, a bad binary', async () => {
    await expectError(['asm', path.join(dir, 'nope.pimasm'), '-o', path.join(dir, 'o.bin')], 'PIMC0101', ['nope.pimasm'], path.join(dir, 'o.bin'));
    await expectError(['asm', write('k.pimasm', GEMV)], 'PIMC0701', ['--output']);
    await expectError(['disasm', write('junk.bin', 'PIMSjunk')], 'PIMC0910', ['junk.bin', 'byte 4']);
  });
});
