// pimc run MODEL --inputs DIR [--outputs DIR] [--check] [--json]
import type { Command } from 'commander';
import { printJson, type CliIO } from '../io.js';
import { parseNumber } from '../options.js';

/** Default of --check (compiler/api/run.ts RUN_CHECK_TOLERANCE; kept here so --help needs no heavy import). */
const DEFAULT_TOLERANCE = { atol: 1e-4, rtol: 0 };

export const RUN_SCHEMA = 'pimc.run/1';

export function registerRun(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('run')
    .description('run a model on the reference interpreter (fp32)')
    .argument('<model>', 'ONNX model file (or .ir text)')
    .requiredOption('--inputs <dir>', 'folder with input_N.pb (and output_N.pb for --check)')
    .option('--outputs <dir>', 'write output_N.pb files here')
    .option('--check', 'compare with output_N.pb in the inputs folder; exit 1 if they differ')
    .option('--atol <x>', 'absolute tolerance of --check', String(DEFAULT_TOLERANCE.atol))
    .option('--rtol <x>', 'relative tolerance of --check', String(DEFAULT_TOLERANCE.rtol))
    .option('--no-fold', 'run the graph as imported, without the fold pipeline')
    .option('--json', `print one JSON document (schema ${RUN_SCHEMA})`)
    .action(async (model: string, o: { inputs: string; outputs?: string; check?: boolean; atol: string; rtol: string; fold: boolean; json?: boolean }) => {
      const { runModel } = await import('../../api/run.js');
      const { passOptions } = await import('./common.js');
      const tolerance = { atol: parseNumber('--atol', o.atol), rtol: parseNumber('--rtol', o.rtol) };
      const r = runModel(model, {
        ...passOptions(io, undefined),
        stage: o.fold ? 'folded' : 'ir',
        inputs: o.inputs,
        outputs: o.outputs,
        check: o.check,
        tolerance,
      });
      if (o.json) {
        printJson(io, { schema: RUN_SCHEMA, model: r.model, ok: r.ok, dims: r.dims, ops: r.ops, ms: r.ms, tolerance: o.check ? tolerance : undefined, outputs: r.outputs });
      } else {
        io.out(`${r.model}: ${r.ops} ops, ran in ${r.ms.run.toFixed(1)} ms\n`);
        for (const out of r.outputs) {
          const check = out.ok === undefined ? '' : out.ok ? `  max abs error ${out.maxAbsError!.toExponential(2)}  ok` : `  FAILED: ${out.reason}`;
          io.out(`  ${out.name} : ${out.dtype}[${out.shape.join(', ')}]${check}\n`);
        }
        if (o.check) io.out(r.ok ? `all outputs within atol ${tolerance.atol}, rtol ${tolerance.rtol}\n` : 'outputs differ from the reference\n');
      }
      if (!r.ok) setExit(1);
    });
}
