// pimc analyze MODEL --hw HW [--phase prefill|decode] [--batch N,N..] [--kv-len N] [--json] [--svg FILE]
import type { Command } from 'commander';
import { fail } from '../../../ir/diagnostics.js';
import type { ScenarioReport } from '../../api/analyze.js';
import { formatSeconds } from '../../placement/explain.js';

const ANALYZE_SCHEMA = 'pimc.analyze/1';
import { printJson, progress, progressDone, type CliIO } from '../io.js';
import { parseDims, parseList, parsePositiveInt } from '../options.js';

function summary(io: CliIO, s: ScenarioReport[], devices: string[]): void {
  const names = s[0]?.baselines.map((b) => b.name) ?? [];
  const head = ['batch', 'estimate', 'vs npu', ...names, `ops ${devices.join('/')}`];
  const rows = s.map((r) => [
    String(r.batch),
    formatSeconds(r.seconds),
    `${r.speedupOverNpu.toFixed(2)}x`,
    ...r.baselines.map((b) => formatSeconds(b.seconds)),
    devices.map((d) => r.opsPerDevice[d as 'npu'] ?? 0).join('/'),
  ]);
  table(io, head, rows);
}

function table(io: CliIO, head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(w[i]!))).join('  ');
  io.out(line(head) + '\n');
  for (const r of rows) io.out(line(r) + '\n');
}

function byKind(io: CliIO, r: ScenarioReport): void {
  const groups = new Map<string, { n: number; s: number; devices: Set<string> }>();
  for (const op of r.ops) {
    const g = groups.get(op.kind) ?? { n: 0, s: 0, devices: new Set() };
    g.n++;
    g.s += op.seconds[op.device] ?? 0;
    g.devices.add(op.device);
    groups.set(op.kind, g);
  }
  const rows = [...groups].sort((a, b) => b[1].s - a[1].s).map(([k, g]) => [k, String(g.n), [...g.devices].sort().join('+'), formatSeconds(g.s), `${((100 * g.s) / r.computeSeconds).toFixed(1)}%`]);
  table(io, ['kind', 'ops', 'device', 'time', 'share'], rows);
}

function explain(io: CliIO, r: ScenarioReport, devices: string[]): void {
  const head = ['op', 'kind', 'on', 'GFLOP', 'MB', 'FLOP/B', ...devices, 'why'];
  const rows = r.ops.map((o) => [
    o.name, o.kind, o.device,
    (o.flops / 1e9).toFixed(3),
    ((o.bytes.weights + o.bytes.activations + o.bytes.kv) / 1e6).toFixed(3),
    o.intensity.toFixed(2),
    ...devices.map((d) => (o.seconds[d as 'npu'] === undefined ? '-' : formatSeconds(o.seconds[d as 'npu']!))),
    o.reason,
  ]);
  table(io, head, rows);
}

export function registerAnalyze(program: Command, io: CliIO): void {
  program
    .command('analyze')
    .description('FLOPs, bytes and arithmetic intensity per op; placement on NPU / HBM-PIM / CXL-PNM with baselines')
    .argument('<model>', 'ONNX model file (or .ir text)')
    .requiredOption('--hw <hw>', 'hardware preset or description file')
    .option('--phase <phase>', 'prefill or decode (default: what the model is)')
    .option('--batch <list>', 'batch sizes, comma-separated', '1')
    .option('--kv-len <n>', 'decode: tokens in the KV cache; prefill: prompt length', '1024')
    .option('--dims <list>', 'sizes of other symbolic dims, e.g. vocab=32000')
    .option('--placement <file>', 'pin ops to devices: JSON { "op name": "npu"|"pim"|"pnm" }')
    .option('--explain', 'per op: each device\'s estimate and the reason for the choice')
    .option('--emit-ir <file>', 'write the placed IR (first batch) to a file')
    .option('--svg <file>', 'write a roofline plot with every op, coloured by device')
    .option('--json', `print one JSON document (schema ${ANALYZE_SCHEMA})`)
    .action(async (model: string, o: { hw: string; phase?: string; batch: string; kvLen: string; dims?: string; placement?: string; explain?: boolean; emitIr?: string; svg?: string; json?: boolean }) => {
      const { printGraph } = await import('../../../ir/printer.js');
      const { analyzeModel } = await import('../../api/analyze.js');
      const { writeFileAtomic } = await import('../../api/files.js');
      const { rooflineSvg } = await import('../../analysis/roofline-svg.js');
      if (o.phase !== undefined && o.phase !== 'prefill' && o.phase !== 'decode') fail('PIMC0703', `--phase must be prefill or decode, got ${JSON.stringify(o.phase)}`);
      const batches = parseList('--batch', o.batch).map((b) => parsePositiveInt('--batch', b));
      const { report, graph } = analyzeModel(model, {
        hw: o.hw,
        phase: o.phase as 'prefill' | 'decode' | undefined,
        batches,
        kvLen: parsePositiveInt('--kv-len', o.kvLen),
        dims: o.dims ? parseDims(o.dims) : undefined,
        placement: o.placement,
        onPass: (s, i, n) => progress(io, `pass ${i + 1}/${n}: ${s.pass}`),
      });
      progressDone(io);
      if (o.svg) writeFileAtomic(o.svg, rooflineSvg(report));
      if (o.emitIr) writeFileAtomic(o.emitIr, printGraph(graph));
      if (o.json) return printJson(io, report);
      const s0 = report.scenarios[0]!;
      const devices = report.hardware.devices;
      io.out(`model     ${report.model}\n`);
      io.out(`hardware  ${report.hardware.name} (${devices.join(', ')})\n`);
      const fixed = s0.notes.some((n) => n.startsWith('static shapes'));
      const length = fixed ? 'lengths fixed by the model' : `${s0.phase === 'decode' ? 'KV length' : 'prompt length'} ${s0.kvLen}`;
      io.out(`scenario  ${s0.phase}, ${length}; estimated time per ${s0.phase === 'decode' ? 'token' : 'prefill'}\n\n`);
      summary(io, report.scenarios, devices);
      for (const n of s0.notes) io.out(`note: ${n}\n`);
      for (const r of report.scenarios) {
        io.out(`\nbatch ${r.batch}: ${formatSeconds(r.seconds)} (${formatSeconds(r.computeSeconds)} on devices, ${formatSeconds(r.movementSeconds)} moving data)\n`);
        if (o.explain) explain(io, r, devices);
        else byKind(io, r);
      }
    });
}
