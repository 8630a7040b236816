// The CRF microprograms of the kernels (HARDWARE.md 3.5), built with the ISA
// table. JUMP's offset counts back from the instruction after it:
// `JUMP n, -k` at entry j repeats from entry j + 1 - k, n more times.

import { controlBurst, encode, OPERAND as O, pimInstr, programToBursts } from './isa.js';

const MAC = (bank: number) => pimInstr('MAC', { dst: O.GRF_B, src0: O.GRF_A, src1: bank, aam: true });
const JUMP = (count: number, back: number) => pimInstr('JUMP', { count, offset: back });

/**
 * GEMV: MAC(even) repeated for every even-bank tile (64 MACs, 8 per AAM
 * instance), MAC(odd) likewise, NOP 7 for the 8 result stores, EXIT.
 */
export function gemvProgram(evenTiles: number, oddTiles: number): number[] {
  const p = [MAC(O.EVEN_BANK), JUMP(evenTiles * 8 - 1, 2)];
  if (oddTiles > 0) p.push(MAC(O.ODD_BANK), JUMP(oddTiles * 8 - 1, 2));
  p.push(pimInstr('NOP', { count: 7 }), pimInstr('EXIT'));
  return p.map(encode);
}

export type ElementwiseOp = 'add' | 'mul' | 'relu' | 'mad';

/**
 * Element-wise kernels over tiles of 8 bursts per bank, even bank then odd
 * bank, `tiles` times: operand A into a GRF (FILL, with the ReLU bit for ReLU), then
 * B applied from the bank (ADD/MUL with AAM) or the scalars (MAD with SRF_M,
 * SRF_A), then 8 NOP stores of the result.
 */
export function elementwiseProgram(op: ElementwiseOp, tiles: number): number[] {
  const half = (grf: number, bank: number) => {
    // ReLU: FILL with the ReLU bit (FILL repeats over the 8 bursts; MOV has no AAM)
    if (op === 'relu') return [pimInstr('FILL', { dst: grf, src0: bank, relu: true }), pimInstr('NOP', { count: 7 })];
    if (op === 'mad') return [pimInstr('MAD', { dst: grf, src0: bank, src1: O.SRF_M, src2: O.SRF_A, aam: true }), pimInstr('NOP', { count: 7 })];
    const apply = pimInstr(op === 'add' ? 'ADD' : 'MUL', { dst: grf, src0: grf, src1: bank, aam: true });
    return [pimInstr('FILL', { dst: grf, src0: bank }), apply, pimInstr('NOP', { count: 7 })];
  };
  const body = [...half(O.GRF_A, O.EVEN_BANK), ...half(O.GRF_B, O.ODD_BANK)];
  const p = [...body];
  if (tiles > 1) p.push(JUMP(tiles - 1, body.length + 1));
  p.push(pimInstr('EXIT'));
  return p.map(encode);
}

export const programBursts = programToBursts;

/** The configuration row's control word: PIM mode on or off, clearing GRF_B on entry. */
export function controlWord(pim: boolean, clearGrfB: boolean): Uint16Array {
  return controlBurst({ pimMode: pim, clearGrfB });
}
