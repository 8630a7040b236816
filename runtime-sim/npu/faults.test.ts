// Every NPU simulator fault, triggered by a hand-written program: the code,
// and a message naming engine, instruction index and cycle (and what to fix).
import { describe, expect, it } from 'vitest';
import { view, type Instr, type NpuProgram } from '../../backends/npu/instr.js';
import { isPimcError } from '../../ir/diagnostics.js';
import { loadHardware } from '../hardware/load.js';
import { NpuMemory } from './memory.js';
import { runNpu } from './sim.js';

const hw = loadHardware('npu');
const GiB = 2 ** 30;

function fault(engines: Instr[][], mem = new NpuMemory(hw)): string {
  const program: NpuProgram = { name: 'bad', engines };
  try {
    runNpu(program, mem, { hw });
  } catch (e) {
    if (isPimcError(e)) return `${e.code}: ${e.detail}`;
    throw e;
  }
  return 'no fault';
}

const END: Instr = { op: 'end' };
const sp = (addr: number, shape: number[], dtype: 'f16' | 'f32' | 'i32' = 'f16') => view('spad', addr, dtype, shape);
const load = (tag: number, spad: number, dram: number, n = 1024): Instr => ({ op: 'dma.load', tag, dst: sp(spad, [n]), src: view('dram', dram, 'f16', [n]) });
const exp = (dst: number, a: number, n = 64): Instr => ({ op: 'vec.unary', fn: 'exp', dst: sp(dst, [n]), a: sp(a, [n]) });

describe('out-of-bounds accesses (PIMC1001)', () => {
  it.each<[string, Instr, RegExp]>([
    ['past the end of DRAM', { op: 'dma.load', tag: 0, dst: sp(0, [64]), src: view('dram', 24 * GiB - 64, 'f16', [64]) },
      /src dram\[0x5ffffffc0\]:f16\[1,1,64\]\{64,64,1\} touches bytes 25769803712..25769803839, outside the DRAM \(25769803776 bytes\)/],
    ['past the end of a scratchpad, by a stride', { op: 'vec.unary', fn: 'relu', dst: sp(0, [64]), a: view('spad', 0, 'f16', [2, 64], [2 ** 21, 1]) },
      /a spad\[0x0\].* touches bytes 0..4194431, outside the scratchpad \(4194304 bytes\)/],
    ['below address 0, by a negative stride', { op: 'dma.store', tag: 0, dst: { ...view('shared', 4, 'f16', [4]), strides: [0, 0, -1] }, src: sp(0, [4]) },
      /dst shared\[0x4\].* touches bytes -2..5, outside the shared SRAM/],
  ])('%s', (_, ins, msg) => {
    const err = fault([[ins, END]]);
    expect(err).toMatch(/^PIMC1001: NPU program "bad": engine 0, instruction 0 \(\S+\), cycle 0: /);
    expect(err).toMatch(msg);
  });

  it('host accesses too', () => {
    const mem = new NpuMemory(hw);
    expect(() => mem.writeF16(24 * GiB - 2, [1, 2])).toThrow(/^PIMC1001: host write of bytes 25769803774..25769803777 is outside the DRAM/);
    expect(() => mem.readF32(2, 1)).toThrow(/^PIMC1001: host read at byte 2 .* not aligned/);
  });
});

describe('touching bytes of an incomplete DMA (PIMC1002)', () => {
  it('compute reads what a load still writes', () => {
    const err = fault([[load(7, 0x1000, 0), exp(0x8000, 0x1040), END]]);
    expect(err).toMatch(/^PIMC1002: NPU program "bad": engine 0, instruction 1 \(vec.exp\), cycle 0: /);
    expect(err).toMatch(/a reads scratchpad of engine 0 bytes 0x1040..0x10bf that incomplete dma.load \(engine 0, instruction 0, tag 7, issued at cycle 0, completes at cycle 503\) writes as dst; wait for it first \(wait.dma 7\)/);
  });

  it('compute overwrites what a store still reads', () => {
    const store: Instr = { op: 'dma.store', tag: 2, dst: view('dram', 0, 'f16', [1024]), src: sp(0, [1024]) };
    expect(fault([[store, exp(0x700, 0x4000), END]])).toMatch(/^PIMC1002: .*instruction 1 \(vec.exp\), cycle 0: dst writes scratchpad of engine 0 bytes 0x700..0x77f that incomplete dma.store .* reads as src/);
  });

  it('but not compute on other bytes, nor after the wait', () => {
    expect(fault([[load(1, 0x1000, 0), exp(0x8000, 0x8000), { op: 'wait.dma', tag: 1 }, exp(0x8000, 0x1000), END]])).toBe('no fault');
    // Interleaved column tiles of one row-major matrix do not overlap.
    const cols = (tag: number, c0: number): Instr => ({ op: 'dma.load', tag, dst: sp(0x10000 * (tag + 1), [64, 32]), src: view('dram', c0 * 2, 'f16', [64, 32], [64, 1]) });
    const store = (tag: number, c0: number): Instr => ({ op: 'dma.store', tag, dst: view('dram', c0 * 2, 'f16', [64, 32], [64, 1]), src: sp(0x10000 * (tag + 1), [64, 32]) });
    expect(fault([[store(0, 0), { op: 'wait.dma', tag: 9 }, END], [cols(1, 32), END]])).toBe('no fault');
  });

  it('a DMA on another engine reads DRAM bytes a store has not finished writing', () => {
    const store: Instr = { op: 'dma.store', tag: 4, dst: view('dram', 0x10000, 'f16', [1024]), src: sp(0, [1024]) };
    const err = fault([[store, { op: 'signal', sem: 0 }, END], [{ op: 'wait.sem', sem: 0, count: 1 }, load(0, 0, 0x10400), END]]);
    expect(err).toBe('PIMC1002: NPU program "bad": engine 1, instruction 1 (dma.load), cycle 0: src reads DRAM bytes 0x10400..0x107ff that incomplete ' +
      'dma.store (engine 0, instruction 0, tag 4, issued at cycle 0, completes at cycle 503) writes as dst; ' +
      'engine 0 must wait for it (wait.dma 4) and then signal a semaphore this engine waits on');
  });

  it('a load into scratchpad bytes another load still writes', () => {
    expect(fault([[load(0, 0, 0), load(1, 0x400, 0x4000), END]])).toMatch(/^PIMC1002: .*instruction 1 \(dma.load\), cycle 0: dst writes scratchpad of engine 0 bytes 0x400..0x7ff that incomplete dma.load \(engine 0, instruction 0/);
  });
});

describe('malformed instructions (PIMC1003) and gathers (PIMC1006)', () => {
  const mm = (a: number[], b: number[], c: number[], dt: 'f16' | 'f32' = 'f16'): Instr => ({ op: 'matmul', accumulate: false, c: sp(0x20000, c, 'f32'), a: sp(0, a, dt), b: sp(0x10000, b) });
  it.each<[string, Instr, RegExp]>([
    ['matmul K mismatch', mm([4, 64], [32, 8], [4, 8]), /K differs: a \[1,4,64\] is \[B,M,K\] but b \[1,32,8\] is not \[B,K,N\]/],
    ['matmul c shape', mm([4, 64], [64, 8], [4, 9]), /c \[1,4,9\] is not \[B,M,N\] = \[1,4,8\]/],
    ['matmul batch', mm([2, 4, 64], [64, 8], [2, 4, 8]), /batch differs/],
    ['matmul f32 input', mm([4, 64], [64, 8], [4, 8], 'f32'), /a has dtype "f32"; this operand must be f16/],
    ['vec shapes that do not broadcast', { op: 'vec.binary', fn: 'add', dst: sp(0, [4, 8]), a: sp(0x100, [4, 8]), b: sp(0x200, [3, 8]) }, /b shape \[1,3,8\] does not broadcast to the destination \[1,4,8\] \(dim 1: 3 vs 4\)/],
    ['vec on i32', { op: 'vec.unary', fn: 'neg', dst: sp(0, [4], 'i32'), a: sp(0, [4], 'i32') }, /dst has dtype "i32"; this operand must be f16 or f32/],
    ['an unknown vec function', { op: 'vec.unary', fn: 'gelu' as 'exp', dst: sp(0, [4]), a: sp(0, [4]) }, /vec.unary has no function "gelu"/],
    ['a reduction with a wrong destination', { op: 'vec.reduce', fn: 'rsum', dst: sp(0, [4, 2]), a: sp(0x100, [4, 8]) }, /dst \[1,4,2\] is not \[1,4,1\]/],
    ['a DMA that converts', { op: 'dma.load', tag: 0, dst: sp(0, [4], 'f32'), src: view('dram', 0, 'f16', [4]) }, /dst is f32 but src is f16; a DMA copies bits/],
    ['a DMA with different shapes', { op: 'dma.load', tag: 0, dst: sp(0, [2, 2]), src: view('dram', 0, 'f16', [4]) }, /dst shape \[1,2,2\] differs from src shape \[1,1,4\]/],
    ['a load from the scratchpad', { op: 'dma.load', tag: 0, dst: sp(0, [4]), src: sp(64, [4]) }, /src is in "spad"; this operand must be in dram or shared/],
    ['compute on DRAM', { op: 'vec.unary', fn: 'exp', dst: sp(0, [4]), a: view('dram', 0, 'f16', [4]) }, /a is in "dram"; this operand must be in spad/],
    ['a misaligned address', exp(0x101, 0), /dst address 0x101 is not aligned to its 2-byte f16 elements/],
    ['a destination that broadcasts', { op: 'vec.unary', fn: 'exp', dst: view('spad', 0, 'f16', [4], [0]), a: sp(0, [4]) }, /dst has stride 0 in dim 2 of size 4: a destination cannot broadcast/],
    ['an empty shape', { op: 'vec.unary', fn: 'exp', dst: sp(0, [0]), a: sp(0, [0]) }, /dst shape \[1,1,0\] is not 3 positive integers/],
    ['a gather index of the wrong type', { op: 'dma.gather', tag: 0, dst: sp(0, [2, 8]), table: view('dram', 0, 'f16', [10, 8]), index: sp(0x100, [2], 'f32') }, /index has dtype "f32"; this operand must be i32/],
    ['a gather with a wrong row count', { op: 'dma.gather', tag: 0, dst: sp(0, [2, 8]), table: view('dram', 0, 'f16', [10, 8]), index: sp(0x100, [3], 'i32') }, /index has 3 elements for 2 dst rows/],
  ])('%s', (_, ins, msg) => {
    const err = fault([[exp(0x3000, 0x3000), ins, END]]);
    expect(err).toMatch(/^PIMC1003: NPU program "bad": engine 0, instruction 1 \(\S+\), cycle 9: /);
    expect(err).toMatch(msg);
  });

  it('a gather index outside the table', () => {
    const mem = new NpuMemory(hw);
    mem.write('spad', 0, 0x100, 'i32', [3, 10]);
    const err = fault([[{ op: 'dma.gather', tag: 0, dst: sp(0, [2, 8]), table: view('dram', 0, 'f16', [10, 8]), index: sp(0x100, [2], 'i32') }, END]], mem);
    expect(err).toMatch(/^PIMC1006: NPU program "bad": engine 0, instruction 0 \(dma.gather\), cycle 0: index\[1\] = 10 is outside the table's 10 rows/);
  });
});

describe('program structure', () => {
  it('deadlock (PIMC1004) names every waiting engine', () => {
    const err = fault([
      [{ op: 'wait.sem', sem: 1, count: 1 }, { op: 'signal', sem: 2 }, END],
      [exp(0, 0), { op: 'wait.sem', sem: 2, count: 1 }, { op: 'signal', sem: 1 }, END],
      [END],
    ]);
    expect(err).toBe('PIMC1004: NPU program "bad": engines 0, 1 deadlock: ' +
      'engine 0, instruction 0 (wait.sem 1, 1) waits since cycle 0 with semaphore 1 at 0; ' +
      'engine 1, instruction 1 (wait.sem 2, 1) waits since cycle 9 with semaphore 2 at 0; engine 2 has ended and no signal can come');
  });

  it('a wait for more signals than ever come is a deadlock', () => {
    expect(fault([[{ op: 'signal', sem: 0 }, END], [{ op: 'wait.sem', sem: 0, count: 2 }, END]])).toMatch(/^PIMC1004: .*engine 1, instruction 0 \(wait.sem 0, 2\) waits since cycle 0 with semaphore 0 at 1/);
  });

  it('a missing end (PIMC1005)', () => {
    expect(fault([[END], [exp(0, 0)]])).toBe('PIMC1005: NPU program "bad": engine 1, instruction 1, cycle 0: no end after the last instruction (index 0); finish the list with end');
  });

  it('instructions after end (PIMC1005)', () => {
    expect(fault([[END, exp(0, 0), END]])).toBe('PIMC1005: NPU program "bad": engine 0, instruction 1 (vec.exp), cycle 0: instructions after end (instruction 0); end must be last');
  });

  it('more engine lists than the NPU has engines (PIMC1009)', () => {
    expect(fault(Array.from({ length: 9 }, () => [END]))).toMatch(/^PIMC1009: NPU program "bad" has 9 engine lists; npu has 8 engines/);
  });

  it('empty engine lists are fine', () => {
    expect(fault([[], [END], []])).toBe('no fault');
  });
});
