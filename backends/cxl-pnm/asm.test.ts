// The .pnmasm text form: the printer's exact output for a small program, and
// every kind of bad text refused with PIMC1205 and its line:col. (Random
// round trips: isa.test.ts.)
import { describe, expect, it } from 'vitest';
import { isPimcError } from '../../ir/diagnostics.js';
import { parsePnm, printPnm } from './asm.js';
import { NO_TENSOR, type PnmProgram } from './instr.js';

const PROGRAM: PnmProgram = {
  name: 'decode step',
  table: [
    { addr: 0, dtype: 'f16', dims: [1, 4, 1, 8], strides: [32, 8, 8, 1] },
    { addr: 0x1000, dtype: 'f16', dims: [1, 2, 5, 8], strides: [128, 64, 8, 1] },
    { addr: 0x2000, dtype: 'f16', dims: [1, 2, 5, 8], strides: [128, 64, 8, 1] },
    { addr: 0x3000, dtype: 'f32', dims: [1, 4, 1, 8], strides: [32, 8, 8, 1] },
  ],
  queues: [
    [
      { op: 'attention', flags: 0, out: 3, in0: 0, in1: 1, in2: 2, imm: 0.125 },
      { op: 'gelu', flags: 1, out: 3, in0: 0, in1: NO_TENSOR, in2: NO_TENSOR, imm: 0 },
    ],
    [],
    [
      { op: 'layernorm', flags: 0, out: 3, in0: 0, in1: 1, in2: NO_TENSOR, imm: 9.999999747378752e-6 },
      { op: 'kv_append', flags: 0, out: 1, in0: 0, in1: NO_TENSOR, in2: NO_TENSOR, imm: 4 },
      { op: 'gemm', flags: 0, out: 3, in0: 0, in1: 1, in2: 2, imm: -Infinity },
    ],
  ],
};

const TEXT = `pnm "decode step" {
  %0 = f16[1, 4, 1, 8] strides [32, 8, 8, 1] at 0x0
  %1 = f16[1, 2, 5, 8] strides [128, 64, 8, 1] at 0x1000
  %2 = f16[1, 2, 5, 8] strides [128, 64, 8, 1] at 0x2000
  %3 = f32[1, 4, 1, 8] strides [32, 8, 8, 1] at 0x3000
  unit 0 {
    attention %3, %0, %1, %2 scale=0.125
    gelu.tanh %3, %0
  }
  unit 1 {
  }
  unit 2 {
    layernorm %3, %0, %1 eps=0.000009999999747378752
    kv_append %1, %0 pos=4
    gemm %3, %0, %1, %2 alpha=-inf
  }
}
`;

function error(text: string): string {
  try {
    parsePnm(text, { fileName: 'k.pnmasm' });
  } catch (e) {
    if (isPimcError(e)) return e.message;
    throw e;
  }
  return 'no error';
}

describe('PNM assembly', () => {
  it('prints deterministically and reads its own output back', () => {
    expect(printPnm(PROGRAM)).toBe(TEXT);
    expect(parsePnm(TEXT)).toEqual(PROGRAM);
  });

  it('accepts comments, free layout and a float immediate that is not a float32 (rounded)', () => {
    const p = parsePnm('# a test\npnm "x" { %0 = f16[4] strides [1] at 0 %1 = f16[4] strides [1] at 8\n unit 0 { rmsnorm %1, %0, %0 eps=1e-6 } }');
    expect(p.queues[0]![0]!.imm).toBe(Math.fround(1e-6));
  });

  const head = 'pnm "x" {\n  %0 = f16[4] strides [1] at 0x0\n';
  it.each([
    ['pnm x {}', /expected a string, found "x" at line 1:5 in "k.pnmasm"/],
    [`${head}  unit 0 {\n    gelu %0 %0\n  }\n}`, /expected '}', found "%0" at line 4:13/],
    [`${head}  unit 0 {\n    gelu %0, %0 $\n  }\n}`, /unexpected character "\$" at line 4:17/],
    [`${head}  unit 0 {\n    frob %0, %0\n  }\n}`, /unknown instruction "frob"; expected one of gemm, .* at line 4:5/],
    [`${head}  unit 0 {\n    gelu.fast %0, %0\n  }\n}`, /gelu has no flag "fast" \(flags: tanh\) at line 4:5/],
    [`${head}  unit 0 {\n    silu.tanh %0, %0\n  }\n}`, /silu has no flag "tanh" at line 4:5/],
    [`${head}  unit 0 {\n    gelu.tanh.tanh %0, %0\n  }\n}`, /flag tanh is given twice/],
    [`${head}  unit 0 {\n    add %0, %0\n  }\n}`, /add takes 3 operands \(out, a, b\), found 2 at line 4:5/],
    [`${head}  unit 0 {\n    gemm %0, %0\n  }\n}`, /gemm takes 3 or 4 operands/],
    [`${head}  unit 0 {\n    attention %0, %0, %0, %0\n  }\n}`, /attention needs scale=\.\.\. at line 4:27/],
    [`${head}  unit 0 {\n    attention %0, %0, %0, %0 eps=1\n  }\n}`, /attention takes scale=, found eps= at line 4:30/],
    [`${head}  unit 0 {\n    copy %0, %0 pos=1\n  }\n}`, /copy takes no immediate at line 4:17/],
    [`${head}  unit 0 {\n    kv_append %0, %0 pos=1.5\n  }\n}`, /pos 1\.5 is not an integer in 0\.\.4294967295 at line 4:26/],
    [`${head}  unit 0 {\n    copy %65535, %0\n  }\n}`, /tensor id %65535 is not in %0\.\.%65534 at line 4:10/],
    [`${head}  unit 1 {\n  }\n}`, /unit 1 out of order; expected unit 0 at line 3:8/],
    ['pnm "x" {\n  %1 = f16[4] strides [1] at 0x0\n}', /tensor %1 out of order; expected %0 at line 2:3/],
    ['pnm "x" {\n  %0 = f8[4] strides [1] at 0x0\n}', /unknown dtype "f8"; expected f16, f32 or i32 at line 2:8/],
    ['pnm "x" {\n  %0 = f16[1, 2, 3, 4, 5] strides [1, 1, 1, 1, 1] at 0x0\n}', /5 dims; a view has at most 4 at line 2:24/],
    ['pnm "x" {\n  %0 = f16[4, 4] strides [1] at 0x0\n}', /1 strides for 2 dims at line 2:27/],
    ['pnm "x" {\n  %0 = f16[4] strides [1] at -8\n}', /address -8 is not an integer in 0\.\.281474976710655 at line 2:30/],
    ['pnm "x" {\n  %0 = f16[4] strides [1] at 0x0\n', /expected .*found end of input at line 3:1/],
  ])('refuses %j with PIMC1205 and line:col', (text, re) => {
    const msg = error(text);
    expect(msg).toMatch(/^PIMC1205: PNM assembly does not parse: /);
    expect(msg).toMatch(re);
  });
});
