// pimc kernel gemv|add|mul|relu|mad|attention --hw HW [--m M --n N | --size N | --heads H --kv-heads K --kv-len S --head-dim D] [--no-pim] [--json]
import type { Command } from 'commander';
import { fail } from '../../../ir/diagnostics.js';
import { printJson, type CliIO } from '../io.js';
import { parseList, parseNonNegativeInt, parsePositiveInt } from '../options.js';
import type { KernelSpec } from '../../api/kernel.js';

const KINDS = ['gemv', 'add', 'mul', 'relu', 'mad', 'attention'] as const;

export function registerKernel(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('kernel')
    .description('run one HBM-PIM kernel end to end on the simulator and check its numbers')
    .argument('<kind>', `one of ${KINDS.join(', ')}`)
    .requiredOption('--hw <hw>', 'hardware preset or description file (e.g. hbm-pim-x4)')
    .option('--m <m>', 'gemv: output rows')
    .option('--n <n>', 'gemv: input length')
    .option('--batch <b>', 'gemv: input vectors against the same weights', '1')
    .option('--size <n>', 'element-wise: elements')
    .option('--heads <h>', 'attention: query heads', '32')
    .option('--kv-heads <k>', 'attention: KV heads (grouped-query attention when fewer than --heads)')
    .option('--kv-len <s>', 'attention: keys in the cache, the newest appended by the host first')
    .option('--head-dim <d>', 'attention: head size', '128')
    .option('--no-pim', 'the baseline: the host reads the operands through its memory controller')
    .option('--seed <s>', 'seed of the random FP16 inputs', '1')
    .option('--host-reduction <p>', 'gemv: precision of the host lane sum, fp16 or fp32')
    .option('--bit-exact', 'also compare bit for bit with a plain FP16 loop in the same order (doubles the work)')
    .option('--trace <file>', 'write a Chrome/Perfetto trace of the commands (open in ui.perfetto.dev)')
    .option('--trace-pchs <list>', 'pseudo-channels to trace (default: all)')
    .option('--json', 'print one JSON document (schema pimc.kernel/1)')
    .action(async (kind: string, o: { hw: string; m?: string; n?: string; batch: string; size?: string; heads: string; kvHeads?: string; kvLen?: string; headDim: string; pim: boolean; seed: string; hostReduction?: string; bitExact?: boolean; trace?: string; tracePchs?: string; json?: boolean }) => {
      if (!(KINDS as readonly string[]).includes(kind)) fail('PIMC0701', `unknown kernel ${JSON.stringify(kind)}; use one of ${KINDS.join(', ')}`);
      const need = (flag: string, v: string | undefined) => {
        if (v === undefined) fail('PIMC0701', `kernel ${kind} needs ${flag}`);
        return parsePositiveInt(flag, v);
      };
      if (o.hostReduction !== undefined && o.hostReduction !== 'fp16' && o.hostReduction !== 'fp32') fail('PIMC0703', '--host-reduction must be fp16 or fp32');
      const spec: KernelSpec = kind === 'gemv'
        ? { kind: 'gemv', m: need('--m', o.m), n: need('--n', o.n), vectors: parsePositiveInt('--batch', o.batch) }
        : kind === 'attention'
          ? { kind: 'attention', hq: parsePositiveInt('--heads', o.heads), hkv: parsePositiveInt('--kv-heads', o.kvHeads ?? o.heads), skv: need('--kv-len', o.kvLen), hd: parsePositiveInt('--head-dim', o.headDim) }
          : { kind: kind as 'add', size: need('--size', o.size) };
      const { runKernel } = await import('../../api/kernel.js');
      const { loadHardware } = await import('../../../runtime-sim/hardware/load.js');
      const hw = loadHardware(o.hw);
      const tracer = o.trace ? await kernelTracer(o.tracePchs, hw.memory.hbm?.tCKns ?? 1) : undefined;
      if (tracer && !o.pim) fail('PIMC0703', '--trace records PIM command streams; the --no-pim baseline has none');
      const r = runKernel(spec, { hw, pim: o.pim, seed: parsePositiveInt('--seed', o.seed), hostReduction: o.hostReduction as 'fp16' | undefined, bitExact: o.bitExact, trace: tracer?.option });
      if (tracer && o.trace) {
        tracer.finish(r.cycles);
        const { writeFileAtomic } = await import('../../api/files.js');
        writeFileAtomic(o.trace, tracer.json());
      }
      if (o.json) printJson(io, r);
      else {
        io.out(`kernel    ${r.kernel} on ${r.hardware}, ${r.pim ? 'in the PIM banks' : 'host reads everything (no PIM)'}\n`);
        const phases = r.phases ? ` = ${Object.entries(r.phases).map(([k, v]) => `${k} ${v}`).join(' + ')}` : '';
        io.out(`cycles    ${r.cycles} (${(r.seconds * 1e6).toFixed(2)} us)${phases}\n`);
        io.out(`commands  ${Object.entries(r.commands).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
        if (r.pim) io.out(`PIM       ${r.pimTriggers} triggers, utilisation ${(100 * r.pimUtilization).toFixed(1)}%\n`);
        const exact = r.check.bitExact === null ? '' : r.check.bitExact ? 'bit-exact with the FP16 loop; ' : `${r.check.mismatches} outputs differ from the FP16 loop; `;
        io.out(`check     ${exact}max |error| vs exact ${r.check.maxAbsError.toExponential(2)}, ${r.check.withinBound ? 'within' : 'OUTSIDE'} the FP16 bound\n`);
        io.out(`simulated ${r.simulatedCommands} commands in ${r.wallMs.toFixed(0)} ms (${((r.simulatedCommands / r.wallMs) * 1e3 / 1e6).toFixed(2)} M commands/s)\n`);
      }
      if (r.check.bitExact === false || !r.check.withinBound) setExit(1);
    });
}

/** A trace of every (or the listed) pseudo-channel's commands, as Chrome trace JSON. */
async function kernelTracer(list: string | undefined, tckNs: number) {
  const { ChromeTrace } = await import('../../../runtime-sim/trace/chrome-trace.js');
  const { hbmTraceSink } = await import('../../../runtime-sim/hbm/trace.js');
  const pchs = list === undefined ? Array.from({ length: 1024 }, (_, i) => i) : parseList('--trace-pchs', list).map((p) => parseNonNegativeInt('--trace-pchs', p));
  const trace = new ChromeTrace();
  const sink = hbmTraceSink(trace, tckNs);
  return {
    option: { pchs, sink: sink.sink },
    finish: (cycles: number) => sink.finish(() => cycles),
    json: () => trace.toJSON(),
  };
}
