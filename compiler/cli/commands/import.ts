// pimc import MODEL [--emit onnx|ir|folded|fused] [-o FILE]
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { parseList } from '../options.js';

export function registerImport(program: Command, io: CliIO): void {
  program
    .command('import')
    .description('import a model and print its IR at a stage, as text')
    .argument('<model>', 'ONNX model file (or .ir text)')
    .option('--emit <stage>', 'stage to stop at: onnx (as imported), ir (typed), folded, fused (transformer ops)', 'folded')
    .option('-o, --output <file>', 'write the IR text to a file instead of stdout')
    .option('--print-after <passes>', 'print the IR after these passes (comma-separated, or "all") to stderr')
    .option('--timings', 'print the time each pass took to stderr')
    .option('--full', 'print constants of any size in full (default: up to 16 elements)')
    .action(async (model: string, o: { emit: string; output?: string; printAfter?: string; timings?: boolean; full?: boolean }) => {
      // Loaded on use: `pimc --help` and light commands start fast.
      const { printGraph } = await import('../../../ir/printer.js');
      const { writeFileAtomic } = await import('../../api/files.js');
      const { checkStage, loadModel } = await import('../../api/model.js');
      const { passOptions, printTimings } = await import('./common.js');
      const stage = checkStage(o.emit);
      const printAfter = o.printAfter === undefined ? undefined : o.printAfter === 'all' ? 'all' : parseList('--print-after', o.printAfter);
      const loaded = loadModel(model, { stage, ...passOptions(io, printAfter) });
      const text = printGraph(loaded.graph, o.full ? { elideAbove: Infinity } : {});
      if (o.output) writeFileAtomic(o.output, text);
      else io.out(text);
      if (o.timings) printTimings(io, loaded);
    });
}
