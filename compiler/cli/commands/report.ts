// pimc report MODEL --hw HW [--inputs DIR] -o report.html
import type { Command } from 'commander';
import { progress, progressDone, type CliIO } from '../io.js';

export function registerReport(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('report')
    .description('one self-contained HTML page: placement, roofline, time per op and device, timeline, speed-up over npu, verification')
    .argument('<model>', 'ONNX model file')
    .requiredOption('--hw <hw>', 'hardware preset or description file')
    .option('--inputs <dir>', 'folder with input_N.pb and output_N.pb (default: test_data_set_0 beside the model)')
    .requiredOption('-o, --output <file>', 'the HTML file to write')
    .action(async (model: string, o: { hw: string; inputs?: string; output: string }) => {
      const { reportModel } = await import('../../api/report.js');
      const { writeFileAtomic } = await import('../../api/files.js');
      const { fmtTime } = await import('../../report/text.js');
      const { html, summary: s } = reportModel(model, { hw: o.hw, inputs: o.inputs, onProgress: (what, d, t) => progress(io, `${what} ${d}/${t}`) });
      progressDone(io);
      writeFileAtomic(o.output, html);
      const where = Object.entries(s.placement).map(([d, n]) => `${n} on ${d}`).join(', ');
      io.out(`${s.model} on ${s.hardware}: ${s.ops} ops (${where}), ${fmtTime(s.seconds)} per step simulated, ${s.speedup.toFixed(2)}x over npu (${fmtTime(s.npuSeconds)})\n`);
      io.out(s.ok ? 'all outputs within tolerance\n' : 'outputs differ beyond the FP16 tolerance\n');
      io.out(`wrote ${o.output}\n`);
      if (!s.ok) setExit(1);
    });
}
