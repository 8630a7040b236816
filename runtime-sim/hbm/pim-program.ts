// A CRF program as the PCUs execute it: each word decoded by the ISA table
// (backends/hbm-pim/isa.ts), plus how many triggering commands it occupies
// and which bank of the pair its bank operand reads.

import { decode, OPERAND, RESERVED_OPCODES, type PimInstr } from '../../backends/hbm-pim/isa.js';

export interface ExecInstr extends PimInstr {
  /** Triggering commands the instruction occupies: 8 with AAM and for FILL, count+1 for NOP, else 1. */
  repeats: number;
  /** 0 for an EVEN_BANK operand, 1 for ODD_BANK, undefined without one. */
  bankParity: 0 | 1 | undefined;
}

const AAM_REPEAT = 8;

/**
 * Decodes the CRF up to its EXIT (words after EXIT never run, so they are not
 * decoded). `where` names the CRF in a fault (PIMC0905, a reserved opcode):
 * a function, so the message is only built for a word that has one (programs
 * are decoded each time PIM execution starts).
 */
export function decodeForExecution(crf: Uint32Array, where: () => string): ExecInstr[] {
  const out: ExecInstr[] = [];
  for (let i = 0; i < crf.length; i++) {
    const reserved = RESERVED_OPCODES.includes(crf[i]! >>> 28);
    const ins = decode(crf[i]!, reserved ? `${where()}, entry ${i}` : '');
    const srcs = [ins.src0, ins.src1, ins.src2];
    const bankParity = srcs.includes(OPERAND.EVEN_BANK) ? 0 : srcs.includes(OPERAND.ODD_BANK) ? 1 : undefined;
    const repeats = ins.op === 'NOP' ? ins.count + 1 : ins.aam || ins.op === 'FILL' ? AAM_REPEAT : 1;
    out.push({ ...ins, aam: ins.aam || ins.op === 'FILL', repeats, bankParity: ins.op === 'NOP' ? undefined : bankParity });
    if (ins.op === 'EXIT') break;
  }
  return out;
}
