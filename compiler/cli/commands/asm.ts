// pimc asm FILE -o OUT ; pimc disasm FILE
// Text to binary and back, for each target: HBM-PIM (.pimasm: a CRF program
// or a pseudo-channel command stream; docs/hbm-pim-asm.md) and the NPU
// (.npuasm: kernel programs, binaries start with "PNPU"; docs/npu-asm.md)
// and the CXL-PNM engine (.pnmasm: tensor table and descriptor queues,
// binaries start with "PNMP"; docs/cxl-pnm.md).
// The target comes from --target, else the file name (asm) or the binary's
// magic (disasm). The work is in backends/*/asm.ts, loaded on use so other
// commands start fast.
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

type Target = 'hbm-pim' | 'npu' | 'cxl-pnm';
const TARGETS: readonly Target[] = ['hbm-pim', 'npu', 'cxl-pnm'];

function targetOf(flag: string | undefined, guess: () => Target): Target {
  if (flag === undefined) return guess();
  if (!(TARGETS as readonly string[]).includes(flag)) fail('PIMC0703', `--target must be one of ${TARGETS.join(', ')}, got ${q(flag)}`);
  return flag as Target;
}

const magic = (b: Uint8Array) => (b.length >= 4 ? String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) : '');
const binaryTarget = (b: Uint8Array): Target => (magic(b) === 'PNPU' ? 'npu' : magic(b) === 'PNMP' ? 'cxl-pnm' : 'hbm-pim');
const textTarget = (file: string): Target => (/\.npuasm$/i.test(file) ? 'npu' : /\.pnmasm$/i.test(file) ? 'cxl-pnm' : 'hbm-pim');

async function assembler(t: Target) {
  if (t === 'npu') {
    const m = await import('../../../backends/npu/asm.js');
    return { assemble: m.assembleNpu, disassemble: m.disassembleNpu };
  }
  if (t === 'cxl-pnm') {
    const [a, b] = await Promise.all([import('../../../backends/cxl-pnm/asm.js'), import('../../../backends/cxl-pnm/binary.js')]);
    return {
      assemble: (text: string, o: { fileName?: string }) => b.encodeProgram(a.parsePnm(text, o)),
      disassemble: (bytes: Uint8Array, o: { fileName?: string }) => a.printPnm(b.decodeProgram(bytes, o.fileName ? `PNM binary ${q(o.fileName)}` : 'PNM binary')),
    };
  }
  return import('../../../backends/hbm-pim/asm.js');
}

export function registerAsm(program: Command, io: CliIO): void {
  program
    .command('asm')
    .description('assemble a text file (.pimasm: HBM-PIM program or command stream; .npuasm: NPU kernel program; .pnmasm: CXL-PNM descriptors) into its binary form')
    .argument('<file>', '.pimasm, .npuasm or .pnmasm text file')
    .requiredOption('-o, --output <file>', 'binary file to write')
    .option('--target <t>', `${TARGETS.join(' or ')} (default: from the file name)`)
    .action(async (file: string, o: { output: string; target?: string }) => {
      const t = targetOf(o.target, () => textTarget(file));
      const { assemble } = await assembler(t);
      const { writeFileAtomic } = await import('../../api/files.js');
      const text = new TextDecoder().decode(readInput(file)).replace(/^\uFEFF/, '');
      // Assembled fully before anything is written: a bad file leaves no output.
      const bytes = assemble(text, { fileName: file });
      writeFileAtomic(o.output, bytes);
    });
  program
    .command('disasm')
    .description('print a binary (HBM-PIM program or command stream, NPU kernel program, CXL-PNM descriptors) as text')
    .argument('<file>', 'binary file written by pimc asm (or by the compiler)')
    .option('--target <t>', `${TARGETS.join(' or ')} (default: from the binary's magic)`)
    .action(async (file: string, o: { target?: string }) => {
      const bytes = readInput(file);
      const t = targetOf(o.target, () => binaryTarget(bytes));
      const { disassemble } = await assembler(t);
      io.out(disassemble(bytes, { fileName: file }));
    });
}
