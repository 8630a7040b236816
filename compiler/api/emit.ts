// `pimc compile --emit STAGE`: one stage of a compiled model as text.
// - placed: the IR after placement (every op's device), as `pimc import` prints IR;
// - npu / pnm: every NPU program (.npuasm) or PNM descriptor program (.pnmasm), in program order;
// - pim: every HBM-PIM command stream (.pimasm), each as run by its first pseudo-channel.
// A listing: each unit is preceded by a comment line naming its step and op,
// and each unit on its own assembles with `pimc asm`.

import { printNpuAsm } from '../../backends/npu/asm.js';
import { printPnm } from '../../backends/cxl-pnm/asm.js';
import { printStream } from '../../backends/hbm-pim/asm.js';
import { printGraph } from '../../ir/printer.js';
import type { PchStream } from '../../runtime-sim/hbm/stream.js';
import type { PimWork, StreamTemplate } from '../../runtime-sim/runtime/pim-exec.js';
import type { Compiled } from './compile.js';

export type Stage = 'placed' | 'npu' | 'pim' | 'pnm';

/** The streams of a PIM step with the pseudo-channel each is written for. */
function streamsOf(w: PimWork): { pch: number; stream: PchStream }[] {
  const t = (x: StreamTemplate) => ({ pch: x.pchs[0] ?? 0, stream: x.stream });
  if (w.kind === 'gemv') return w.slices.map((s) => t(s.template));
  if (w.kind === 'kv-append') return w.templates.flat().map(t);
  if (w.kind === 'attention') return [...w.scores.flat(), ...w.context.flat()].map(t);
  return [{ pch: 0, stream: w.stream }];
}

export function emitStage(c: Compiled, stage: Stage): string {
  if (stage === 'placed') return printGraph(c.graph);
  const parts: string[] = [];
  c.code.steps.forEach((s, i) => {
    if (s.device !== stage) return;
    const head = (extra = '') => `# step ${i}: ${s.op.name} (${s.op.domain ? `${s.op.domain}.` : ''}${s.op.type})${extra}\n`;
    if (s.device === 'npu') parts.push(head() + printNpuAsm(s.program));
    else if (s.device === 'pnm') parts.push(head() + printPnm(s.program));
    else if (s.device === 'pim') streamsOf(s.work).forEach((u, k) => parts.push(head(`, stream ${k}`) + printStream({ kind: 'stream', ...u })));
  });
  return parts.join('\n');
}
