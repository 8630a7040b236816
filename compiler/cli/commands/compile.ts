// pimc compile MODEL --hw HW [--inputs DIR | --phase P --batch N --kv-len N --dims ..] [--placement FILE] [--weights MODE] [--emit STAGE] -o BUNDLE [--json]
import type { Command } from 'commander';
import { fail } from '../../../ir/diagnostics.js';
import { printJson, progress, progressDone, type CliIO } from '../io.js';
import { parseDims, parsePositiveInt } from '../options.js';

const STAGES = ['placed', 'npu', 'pim', 'pnm'] as const;

interface CompileFlags {
  hw: string; inputs?: string; phase?: string; batch?: string; kvLen?: string; dims?: string;
  placement?: string; weights: string; emit?: string; output: string; json?: boolean;
}

export function registerCompile(program: Command, io: CliIO): void {
  program
    .command('compile')
    .description('compile a model for the whole machine into a bundle that pimc simulate runs (docs/bundle.md)')
    .argument('<model>', 'ONNX model file')
    .requiredOption('-o, --output <path>', 'the bundle folder to write (replaced if it is a bundle); with --emit, the listing file')
    .option('--hw <hw>', 'hardware preset or description file', 'npu+hbm-pim')
    .option('--inputs <dir>', 'take the sizes of symbolic dims from this folder\'s input_N.pb')
    .option('--phase <phase>', 'prefill or decode (default: what the model is)')
    .option('--batch <n>', 'batch size', '1')
    .option('--kv-len <n>', 'decode: tokens already in the KV cache; prefill: prompt length', '1024')
    .option('--dims <list>', 'sizes of other symbolic dims, e.g. vocab=32000')
    .option('--placement <file>', 'JSON { "op name": "npu" | "pim" | "pnm" } (ops it does not name run on the NPU); default: the placement\'s optimum')
    .option('--weights <mode>', 'auto (embed up to 1 GiB), embed (weights.bin in the bundle) or reference (read from the model\'s files when simulated)', 'auto')
    .option('--emit <stage>', `write one stage as text instead of a bundle: ${STAGES.join(', ')}`)
    .option('--json', 'print one JSON document (schema pimc.compile/1)')
    .action(async (model: string, o: CompileFlags) => {
      if (o.phase !== undefined && o.phase !== 'prefill' && o.phase !== 'decode') fail('PIMC0703', `--phase must be prefill or decode, got ${JSON.stringify(o.phase)}`);
      if (!['auto', 'embed', 'reference'].includes(o.weights)) fail('PIMC0703', `--weights must be auto, embed or reference, got ${JSON.stringify(o.weights)}`);
      if (o.emit !== undefined && !(STAGES as readonly string[]).includes(o.emit)) fail('PIMC0703', `--emit must be one of ${STAGES.join(', ')}, got ${JSON.stringify(o.emit)}`);
      const { compileModel, compileToBundle } = await import('../../api/compile.js');
      const { readPlacementFile } = await import('../../api/analyze.js');
      const pins = o.placement ? readPlacementFile(o.placement) : undefined;
      const opts = {
        hw: o.hw,
        ...(o.inputs ? { inputs: o.inputs } : {
          scenario: {
            phase: o.phase as 'prefill' | 'decode' | undefined,
            batch: parsePositiveInt('--batch', o.batch ?? '1'),
            kvLen: parsePositiveInt('--kv-len', o.kvLen ?? '1024'),
            ...(o.dims ? { dims: parseDims(o.dims) } : {}),
          },
        }),
        placement: pins ? (op: { name: string }) => pins.get(op.name) : 'optimal' as const,
        onProgress: (what: string, d: number, t: number) => progress(io, `${what} ${d}/${t}`),
      };
      if (o.emit) {
        const { emitStage } = await import('../../api/emit.js');
        const { writeFileAtomic } = await import('../../api/files.js');
        const c = compileModel(model, opts);
        progressDone(io);
        writeFileAtomic(o.output, emitStage(c, o.emit as (typeof STAGES)[number]));
        if (!o.json) io.out(`wrote ${o.output} (${o.emit})\n`);
        return;
      }
      const r = compileToBundle(model, o.output, { ...opts, weights: o.weights as 'auto' });
      progressDone(io);
      if (o.json) return printJson(io, r);
      const where = Object.entries(r.placement).map(([d, n]) => `${n} on ${d}`).join(', ');
      io.out(`${r.model} for ${r.hardware}: ${Object.values(r.placement).reduce((a, b) => a + b, 0)} ops (${where})\n`);
      io.out(`  dims ${Object.entries(r.dims).map(([k, v]) => `${k}=${v}`).join(', ') || '(static)'}\n`);
      io.out(`  steps ${Object.entries(r.steps).map(([d, n]) => `${d} ${n}`).join(', ')}\n`);
      io.out(`  weights ${r.weights.mode === 'embed' ? 'embedded' : 'referenced'}: ${r.weights.tensors} tensors, ${(r.weights.bytes / 2 ** 20).toFixed(1)} MiB in DRAM\n`);
      io.out(`wrote ${r.bundle} (${r.files} files, ${(r.bytes / 2 ** 20).toFixed(1)} MiB); run it with: pimc simulate ${r.bundle} --inputs DIR (or --timing-only)\n`);
    });
}
