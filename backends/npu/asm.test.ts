// The .npuasm text form: a hand-written listing of every kind of line reads
// back to itself, random programs round-trip (parse(print(p)) = p and the
// printed text is a fixed point), assemble / disassemble agree with the
// binary, and bad text gives PIMC1008 with line:col.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPimcError } from '../../ir/diagnostics.js';
import { assembleNpu, disassembleNpu, parseNpuAsm, printImm, printNpuAsm } from './asm.js';
import { decodeProgram } from './binary.js';
import type { Instr, NpuProgram, View } from './instr.js';
import { ISA, OP_SPEC } from './isa.js';

const SEED = 7011;

const LISTING = `program "gemm 64x128x32"
engine 0:
  dma.load t0, spad[0x0]:f16[1,64,128] <- dram[0x4000]:f16[1,64,128]{8192,4096,1}
  dma.load t1, spad[0x4000]:f16[1,128,32] <- shared[0x100]:f16[1,128,32]
  dma.gather t2, spad[0x10000]:f16[1,8,768] <- dram[0x5fe000000]:f16[1,50257,768] by spad[0x20000]:i32[1,1,8]
  wait.dma t0
  wait.dma t1
  matmul spad[0x8000]:f32[1,64,32] = spad[0x0]:f16[1,64,128] x spad[0x4000]:f16[1,128,32]
  matmul.acc spad[0x8000]:f32[2,64,32] += spad[0x0]:f16[2,64,128]{0,128,1} x spad[0x4000]:f16[2,128,32]{0,32,1}
  vec.muls spad[0x8000]:f32[1,64,32], spad[0x8000]:f32[1,64,32], 0.125
  vec.adds spad[0x8000]:f32[1,64,32], spad[0x8000]:f32[1,64,32], -inf
  vec.maxs spad[0x8000]:f32[1,64,32], spad[0x8000]:f32[1,64,32], -0
  vec.sub spad[0x8000]:f32[1,64,32], spad[0x8000]:f32[1,64,32], spad[0xa000]:f32[1,64,1]{0,1,0}
  vec.rmax spad[0xa000]:f32[1,64,1], spad[0x8000]:f32[1,64,32]
  vec.exp spad[0x8000]:f32[1,64,32], spad[0x8000]:f32[1,64,32]
  vec.copy spad[0xc000]:f16[1,64,32], spad[0x8000]:f32[1,64,32]{2048,1,64}
  dma.store t3, dram[0x0]:f16[1,64,32] <- spad[0xc000]:f16[1,64,32]
  signal s1
  end
engine 1:
  wait.sem s1, 1
  end
engine 2:
`;

// Random programs: same fields as isa.test.ts, but imm any double (the text keeps doubles exactly).
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const viewArb: fc.Arbitrary<View> = fc.record({
  space: fc.constantFrom('dram', 'shared', 'spad'),
  addr: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
  dtype: fc.constantFrom('f16', 'f32', 'i32'),
  shape: fc.tuple(u32, u32, u32),
  strides: fc.tuple(...[0, 1, 2].map(() => fc.integer({ min: -0x80000000, max: 0x7fffffff }))) as fc.Arbitrary<[number, number, number]>,
}).chain((v) => fc.oneof(fc.constant(v), fc.constant({ ...v, strides: [v.shape[1] * v.shape[2], v.shape[2], 1] as [number, number, number] })));
const instrArb: fc.Arbitrary<Instr> = fc.oneof(...ISA.flatMap((spec) => (spec.fns ?? [undefined]).map((fn) => {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const k of spec.scalars) fields[k] = k === 'accumulate' ? fc.boolean() : k === 'imm' ? fc.double() : u32;
  for (const k of OP_SPEC.get(spec.op)!.views) fields[k] = viewArb;
  return fc.record(fields).map((r) => ({ op: spec.op, ...(fn ? { fn } : {}), ...r }) as unknown as Instr);
})));
const progArb: fc.Arbitrary<NpuProgram> = fc.record({
  name: fc.string({ maxLength: 10, unit: 'binary' }),
  engines: fc.array(fc.array(instrArb, { maxLength: 5 }), { maxLength: 4 }),
});

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isPimcError(e)) return `${e.code}: ${e.detail}`;
    throw e;
  }
  return 'no error';
}

describe('.npuasm text', () => {
  it('reads a listing with every kind of line back to the same text', () => {
    const p = parseNpuAsm(LISTING);
    expect(p.engines.map((e) => e.length)).toEqual([17, 2, 0]);
    expect(printNpuAsm(p)).toBe(LISTING);
    const gather = p.engines[0]![2] as Extract<Instr, { op: 'dma.gather' }>;
    expect(gather.table.addr).toBe(0x5fe000000);
    expect(gather.index).toEqual({ space: 'spad', addr: 0x20000, dtype: 'i32', shape: [1, 1, 8], strides: [8, 8, 1] });
    expect(Object.is((p.engines[0]![9] as { imm: number }).imm, -0)).toBe(true);
  });

  it('random programs: parse(print(p)) equals p and printed text is a fixed point', () => {
    fc.assert(fc.property(progArb, (p) => {
      const text = printNpuAsm(p);
      const back = parseNpuAsm(text);
      expect(back).toEqual(p);
      expect(printNpuAsm(back)).toBe(text);
    }), { seed: SEED, numRuns: 200 });
  });

  it('prints immediates so they read back exactly', () => {
    for (const v of [0.1, -0, 1e-45, 3.4028234663852886e38, Infinity, -Infinity, NaN, 1 / 3]) {
      const p = parseNpuAsm(`engine 0:\n  vec.adds spad[0x0]:f32[4], spad[0x0]:f32[4], ${printImm(v)}\n`);
      expect((p.engines[0]![0] as { imm: number }).imm).toBe(v);
    }
  });

  it('accepts short shapes, comments and blank lines', () => {
    const p = parseNpuAsm('# a comment\nengine 0:\n\n  vec.relu spad[0x0]:f16[64], spad[0x80]:f16[2,32]{32,1} # trailing\n  end\n');
    expect(p.name).toBe('');
    const ins = p.engines[0]![0] as Extract<Instr, { op: 'vec.unary' }>;
    expect(ins.dst.shape).toEqual([1, 1, 64]);
    expect(ins.dst.strides).toEqual([64, 64, 1]);
    expect(ins.a.strides).toEqual([0, 32, 1]);
  });

  it('assembles to the PNPU binary and disassembles to the canonical text', () => {
    const bytes = assembleNpu(LISTING);
    expect(decodeProgram(bytes)).toEqual(parseNpuAsm(LISTING));
    expect(disassembleNpu(bytes)).toBe(LISTING);
  });

  const bad: [string, string, RegExp][] = [
    ['an unknown mnemonic', 'engine 0:\n  vec.foo spad[0x0]:f16[4], spad[0x0]:f16[4]\n', /unknown instruction "vec.foo" at line 2:3/],
    ['an op with a function used bare', 'engine 0:\n  vec.unary spad[0x0]:f16[4], spad[0x0]:f16[4]\n', /unknown instruction "vec.unary" at line 2:3/],
    ['an instruction before any engine', 'end\n', /before the first engine header.* at line 1:1/],
    ['engines out of order', 'engine 1:\n', /engine number .* 1 is outside 0..0 at line 1:8/],
    ['a missing comma', 'engine 0:\n  dma.load t0 spad[0x0]:f16[4] <- dram[0x0]:f16[4]\n', /dma.load expects ',' here, found a view at line 2:15/],
    ['a semaphore for a tag', 'engine 0:\n  wait.dma s0\n', /expects a tag 'tN' here, found "s0" at line 2:12/],
    ['matmul.acc written with =', 'engine 0:\n  matmul.acc spad[0x0]:f32[4,4] = spad[0x0]:f16[4,4] x spad[0x0]:f16[4,4]\n', /expects '\+=' here, found "=" at line 2:33/],
    ['an unknown dtype', 'engine 0:\n  vec.exp spad[0x0]:bf16[4], spad[0x0]:f16[4]\n', /unknown dtype "bf16" .* at line 2:21/],
    ['an unknown memory', 'engine 0:\n  vec.exp hbm[0x0]:f16[4], spad[0x0]:f16[4]\n', /unknown memory "hbm" .* at line 2:11/],
    ['a fractional address', 'engine 0:\n  vec.exp spad[1.5]:f16[4], spad[0x0]:f16[4]\n', /address must be an integer, found "1.5" at line 2:16/],
    ['strides that do not match the dims', 'engine 0:\n  vec.exp spad[0x0]:f16[4,4]{1}, spad[0x0]:f16[4]\n', /1 strides for 2 dims at line 2:30/],
    ['a tag beyond 32 bits', 'engine 0:\n  wait.dma t4294967296\n', /tag 4294967296 is outside 0..4294967295 at line 2:12/],
    ['extra operands', 'engine 0:\n  end t0\n', /unexpected "t0" after the operands of end at line 2:7/],
    ['a missing operand', 'engine 0:\n  wait.sem s1,\n', /wait.sem expects a count here, found the end of the line at line 2:14/],
    ['a stray character', 'engine 0:\n  end @\n', /unexpected character "@" at line 2:7/],
    ['a broken view', 'engine 0:\n  vec.exp spad[0x0:f16[4], spad[0x0]:f16[4]\n', /expected '\]', found ":" at line 2:19/],
    ['a program line after the first', 'engine 0:\nprogram "x"\n', /program must be the first line at line 2:1/],
    ['a number where a line starts', '12\n', /expected a line starting with a name, found "12" at line 1:1/],
  ];
  it.each(bad)('refuses %s with PIMC1008 and line:col', (_, text, msg) => {
    const err = code(() => parseNpuAsm(text, { fileName: 'k.npuasm' }));
    expect(err).toMatch(/^PIMC1008: NPU assembly does not parse: /);
    expect(err).toMatch(msg);
    expect(err).toMatch(/in "k.npuasm"$/);
  });
});
