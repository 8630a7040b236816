// pimc verify MODEL --hw HW --inputs DIR [--json]
import type { Command } from 'commander';
import { printJson, progress, progressDone, type CliIO } from '../io.js';

export function registerVerify(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('verify')
    .description('compile a model, simulate it on the hardware and compare every output with its test data')
    .argument('<model>', 'ONNX model file')
    .requiredOption('--inputs <dir>', 'folder with input_N.pb (and output_N.pb to compare with; else the reference interpreter)')
    .option('--hw <hw>', 'hardware preset or description file', 'npu')
    .option('--placement <file>', 'JSON { "op name": "npu" | "pim" | "pnm" } (ops it does not name run on the NPU); default: the placement\'s optimum')
    .option('--per-op', 'also check every op on its own inputs against its kernel\'s bound, naming the first op outside it')
    .option('--trace <file>', 'write a Chrome/Perfetto trace of the simulated run (open in ui.perfetto.dev)')
    .option('--json', 'print one JSON document (schema pimc.verify/1)')
    .action(async (model: string, o: { inputs: string; hw: string; placement?: string; perOp?: boolean; trace?: string; json?: boolean }) => {
      const { verifyModel } = await import('../../api/verify.js');
      const { readPlacementFile } = await import('../../api/analyze.js');
      const placement = o.placement ? readPlacementFile(o.placement) : undefined;
      const { report } = verifyModel(model, { hw: o.hw, inputs: o.inputs, placement, perOp: o.perOp, ...(o.trace ? { trace: o.trace } : {}), onProgress: (what, d, t) => progress(io, `${what} ${d}/${t}`) });
      progressDone(io);
      if (o.json) printJson(io, report);
      else {
        const where = Object.entries(report.placement).map(([d, n]) => `${n} on ${d}`).join(', ');
        io.out(`${report.model} on ${report.hardware}: ${report.ops} ops (${where}), ${(report.seconds * 1e6).toFixed(1)} us simulated\n`);
        for (const x of report.outputs) {
          io.out(`  ${x.name} [${x.shape.join(', ')}] vs ${x.against}: max abs error ${x.maxAbsError.toExponential(2)}, tolerance ${x.tolerance.toExponential(2)} (depth ${x.depth})  ${x.ok ? 'ok' : 'FAILED'}\n`);
        }
        const p = report.perOp;
        if (p) {
          io.out(`per op: ${p.checked} ops checked against their kernels' bounds, ${p.unchecked} (attention on HBM-PIM) end to end only\n`);
          if (p.firstFailure) io.out(`first op outside its bound: ${p.firstFailure.name} (${p.firstFailure.type} on ${p.firstFailure.device}), error ${p.firstFailure.ratio.toPrecision(3)} x its bound\n`);
        }
        io.out(report.ok ? 'all outputs within tolerance\n' : 'outputs differ beyond the FP16 tolerance\n');
      }
      if (!report.ok) setExit(1);
    });
}
