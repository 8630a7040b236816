// pimc demo: the main job on a bundled model.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { printJson, progress, progressDone, type CliIO } from '../io.js';

export const DEMO_SCHEMA = 'pimc.demo/1';

export function registerDemo(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description('the bundled GPT-2: check it against PyTorch, compile and simulate it on npu+hbm-pim, verify, generate tokens, speed-up over npu')
    .option('--report <file>', 'where to write the report page', path.join(os.tmpdir(), 'pimc-demo', 'report.html'))
    .option('--json', `print one JSON document (schema ${DEMO_SCHEMA})`)
    .action(async (o: { json?: boolean; report: string }) => {
      const { demo } = await import('../../api/demo.js');
      fs.mkdirSync(path.dirname(path.resolve(o.report)), { recursive: true });
      const r = demo({ onStep: (t) => progress(io, t), reportPath: path.resolve(o.report) });
      progressDone(io);
      if (o.json) {
        printJson(io, { schema: DEMO_SCHEMA, ...r });
      } else {
        const ops = Object.entries(r.opCounts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
        io.out(`model       ${r.model}\n`);
        io.out(`imported    ${r.opsImported} ops\n`);
        io.out(`folded      ${r.opsFolded} ops (${ops})\n`);
        io.out(`passes      ${r.timings.map((t) => `${t.pass} ${t.ms.toFixed(1)} ms`).join(', ')}\n`);
        io.out(`ran         reference interpreter, ${r.run.ms.run.toFixed(1)} ms\n`);
        for (const out of r.run.outputs) {
          io.out(`  ${out.name.padEnd(16)} ${out.dtype}[${out.shape.join(', ')}]  max abs error vs PyTorch ${out.maxAbsError!.toExponential(2)} ${out.ok ? 'ok' : 'FAILED'}\n`);
        }
        io.out(`next token  ${r.topTokens.map((t) => `${t.id} (${t.logit.toFixed(3)})`).join(', ')}\n`);
        io.out(r.run.ok ? 'all outputs match the reference\n' : 'outputs differ from the reference\n');
        const m = r.machine;
        const where = Object.entries(m.placement).map(([d, n]) => `${n} on ${d}`).join(', ');
        io.out(`compiled    for ${m.hardware}: ${m.ops} ops (${where})\n`);
        io.out(`simulated   ${(m.seconds * 1e6).toFixed(1)} us per decode step (${Object.entries(m.secondsByDevice).map(([d, s]) => `${d} ${(s * 1e6).toFixed(1)} us`).join(', ')}); npu alone ${(m.npuSeconds * 1e6).toFixed(1)} us\n`);
        io.out(`verified    ${m.ok ? 'every output within the FP16 tolerance of the test data' : 'outputs OUTSIDE the FP16 tolerance'}\n`);
        io.out(`generated   ${r.generate.tokens.join(',')} (${r.generate.steps.filter((s) => s.status === 'match').length}/${r.generate.steps.length} steps equal to the reference)\n`);
        io.out(`speed-up    ${m.speedup.toFixed(2)}x over npu (simulated)\n`);
        io.out(`report      ${r.reportPath}\n`);
      }
      if (!r.run.ok || !r.machine.ok || !r.generate.ok) setExit(1);
    });
}
