// pimc asm FILE -o OUT ; pimc disasm FILE
// Text (.pimasm: a CRF program or a pseudo-channel command stream) to binary
// and back; the formats are in docs/hbm-pim-asm.md. The work is in
// backends/hbm-pim/asm.ts, loaded on use so other commands start fast.
import fs from 'node:fs';
import type { Command } from 'commander';
import { fail, q } from '../../../ir/diagnostics.js';
import type { CliIO } from '../io.js';

function readInput(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    return fail('PIMC0101', `cannot read ${q(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; check the path`);
  }
}

export function registerAsm(program: Command, io: CliIO): void {
  program
    .command('asm')
    .description('assemble a .pimasm text file (CRF program or command stream) into its binary form')
    .argument('<file>', '.pimasm text file')
    .requiredOption('-o, --output <file>', 'binary file to write')
    .action(async (file: string, o: { output: string }) => {
      const { assemble } = await import('../../../backends/hbm-pim/asm.js');
      const { writeFileAtomic } = await import('../../api/files.js');
      const text = new TextDecoder().decode(readInput(file)).replace(/^\uFEFF/, '');
      // Assembled fully before anything is written: a bad file leaves no output.
      const bytes = assemble(text, { fileName: file });
      writeFileAtomic(o.output, bytes);
    });
  program
    .command('disasm')
    .description('print a binary CRF program or command stream as .pimasm text')
    .argument('<file>', 'binary file written by pimc asm (or by the compiler)')
    .action(async (file: string) => {
      const { disassemble } = await import('../../../backends/hbm-pim/asm.js');
      io.out(disassemble(readInput(file), { fileName: file }));
    });
}
