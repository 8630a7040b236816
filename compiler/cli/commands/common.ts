// Pieces several commands share.
import { printGraph } from '../../../ir/printer.js';
import type { LoadedModel, LoadOptions } from '../../api/model.js';
import { progress, progressDone, type CliIO } from '../io.js';

/** Pipeline options from --print-after, with progress on a terminal. */
export function passOptions(io: CliIO, printAfter: readonly string[] | 'all' | undefined): LoadOptions {
  return {
    printAfter,
    onPrint: printAfter ? (pass, g) => io.err(`// ----- IR after ${pass} -----\n${printGraph(g)}`) : undefined,
    onPass: (step, i, n) => (i + 1 < n ? progress(io, `pass ${i + 2}/${n} after ${step.pass}`) : progressDone(io)),
  };
}

export function printTimings(io: CliIO, m: LoadedModel): void {
  const rows = [['import', m.importMs, ''] as const, ...m.timings.map((t) => [t.pass, t.ms, String(t.changed)] as const)];
  io.err('pass              ms  changed\n');
  for (const [name, ms, changed] of rows) io.err(`${name.padEnd(16)} ${ms.toFixed(1).padStart(6)}  ${changed}\n`);
}
