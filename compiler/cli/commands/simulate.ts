// pimc simulate BUNDLE --inputs DIR [--outputs DIR] [--trace FILE] [--timing-only] [--json]
import type { Command } from 'commander';
import { printJson, progress, progressDone, type CliIO } from '../io.js';

interface SimulateFlags { inputs?: string; outputs?: string; trace?: string; timingOnly?: boolean; json?: boolean }

export function registerSimulate(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('simulate')
    .description('run a bundle (pimc compile) on the simulated machine; compare with output_N.pb when the inputs folder has them')
    .argument('<bundle>', 'bundle folder written by pimc compile')
    .option('--inputs <dir>', 'folder with input_N.pb (and output_N.pb to compare with); not needed with --timing-only')
    .option('--outputs <dir>', 'write the outputs as output_N.pb')
    .option('--trace <file>', 'write a Chrome/Perfetto trace of the run (open in ui.perfetto.dev)')
    .option('--timing-only', 'time every command without computing numbers (no weights are read)')
    .option('--json', 'print one JSON document (schema pimc.simulate/1)')
    .action(async (bundle: string, o: SimulateFlags) => {
      const { simulateBundle } = await import('../../api/simulate-bundle.js');
      const { report } = simulateBundle(bundle, {
        ...(o.inputs ? { inputs: o.inputs } : {}),
        functional: !o.timingOnly,
        ...(o.outputs ? { outputs: o.outputs } : {}),
        ...(o.trace ? { trace: o.trace } : {}),
        onProgress: (what, d, t) => progress(io, `${what} ${d}/${t}`),
      });
      progressDone(io);
      if (o.json) printJson(io, report);
      else {
        const by = Object.entries(report.secondsByDevice).map(([d, s]) => `${d} ${(s * 1e6).toFixed(1)} us`).join(', ');
        io.out(`${report.model} on ${report.hardware}: ${report.steps} steps, ${(report.seconds * 1e6).toFixed(1)} us simulated (${by})${report.functional ? '' : ', timing only'}\n`);
        for (const x of report.checks) {
          io.out(`  ${x.name} [${x.shape.join(', ')}] vs test data: max abs error ${x.maxAbsError.toExponential(2)}, tolerance ${x.tolerance.toExponential(2)} (depth ${x.depth})  ${x.ok ? 'ok' : 'FAILED'}\n`);
        }
        if (report.checks.length) io.out(report.ok ? 'all outputs within tolerance\n' : 'outputs differ beyond the FP16 tolerance\n');
        if (o.outputs) io.out(`outputs in ${o.outputs}\n`);
        if (o.trace) io.out(`trace in ${o.trace}\n`);
      }
      if (!report.ok) setExit(1);
    });
}
