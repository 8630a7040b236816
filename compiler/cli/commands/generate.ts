// pimc generate MODEL --hw HW --prompt-ids 1,2,3 --steps N [--json]
import type { Command } from 'commander';
import { fail } from '../../../ir/diagnostics.js';
import { printJson, progress, progressDone, type CliIO } from '../io.js';
import { parseList, parseNonNegativeInt, parsePositiveInt } from '../options.js';

export function registerGenerate(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('generate')
    .description('greedy decoding on the simulated machine, token by token beside the reference interpreter')
    .argument('<model>', 'decode-step ONNX model (inputs input_ids and past_* caches)')
    .requiredOption('--prompt-ids <ids>', 'comma-separated token ids of the prompt')
    .option('--steps <n>', 'decode steps after the prompt', '16')
    .option('--hw <hw>', 'hardware preset or description file', 'npu+hbm-pim')
    .option('--json', 'print one JSON document (schema pimc.generate/1)')
    .action(async (model: string, o: { promptIds: string; steps: string; hw: string; json?: boolean }) => {
      const ids = parseList('--prompt-ids', o.promptIds).map((x) => parseNonNegativeInt('--prompt-ids', x));
      const steps = parsePositiveInt('--steps', o.steps);
      if (steps > 4096) fail('PIMC0703', `--steps ${steps} is more than 4096`);
      const { generateTokens } = await import('../../api/generate.js');
      const r = generateTokens(model, { hw: o.hw, promptIds: ids, steps, onProgress: (d, t) => progress(io, `step ${d}/${t}`) });
      progressDone(io);
      if (o.json) printJson(io, r);
      else {
        io.out(`${r.model} on ${r.hardware}: prompt ${r.prompt.join(',')}\n`);
        io.out(`tokens    ${r.tokens.join(',')}\n`);
        for (const s of r.steps) if (s.status !== 'match') io.out(`  step ${s.step}: ${s.status} (reference ${s.token}, machine ${s.machineToken}, margin ${s.margin.toExponential(2)}, logit error ${s.maxLogitError.toExponential(2)} of ${s.tolerance.toExponential(2)})\n`);
        io.out(`${r.steps.filter((s) => s.status === 'match').length}/${r.steps.length} steps match the reference; ${(r.secondsPerToken * 1e6).toFixed(1)} us simulated per decode step\n`);
      }
      if (!r.ok) setExit(1);
    });
}
