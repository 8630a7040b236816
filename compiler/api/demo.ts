// The main job on a bundled model:
// 1. import the bundled GPT-2 decode step, fold it, run it on the reference
//    interpreter and check it against the PyTorch outputs that came with it;
// 2. compile it for npu+hbm-pim (placement by the cost model), simulate every
//    op on its device and verify the outputs against the test data, and the
//    same on the `npu` baseline for the speed-up;
// 3. generate a few tokens on the machine with the dynamic-shape GPT-2,
//    beside the reference interpreter;
// 4. write the report page of step 2 (compiler/api/report.ts).

import path from 'node:path';
import type { Graph } from '../../ir/graph.js';
import { importOnnxFile } from '../frontend/onnx-import.js';
import { runPasses, type PassTiming } from '../passes/manager.js';
import { pipeline } from '../passes/pipelines.js';
import { runModel, type RunReport } from './run.js';
import { bundledModel } from './package-root.js';
import { generateTokens, type GenerateReport } from './generate.js';
import { writeFileAtomic } from './files.js';
import { reportModel, type ReportSummary } from './report.js';

export const DEMO_HARDWARE = 'npu+hbm-pim';

export interface DemoReport {
  model: string;
  opsImported: number;
  opsFolded: number;
  opCounts: Record<string, number>;
  timings: PassTiming[];
  run: Omit<RunReport, 'tensors'>;
  /** The five most likely next tokens (id and logit). */
  topTokens: { id: number; logit: number }[];
  /** The decode step compiled for npu+hbm-pim, simulated and verified, beside the npu baseline. */
  machine: ReportSummary & { secondsByDevice: Record<string, number> };
  generate: GenerateReport;
  /** The report page written. */
  reportPath: string;
}

export function demo(opts: { onStep?: (text: string) => void; reportPath: string }): DemoReport {
  const step = opts.onStep ?? (() => {});
  const model = bundledModel('gpt2_decode');
  step(`importing ${path.relative(process.cwd(), model)}`);
  const g: Graph = importOnnxFile(model);
  const opsImported = g.ops.length;
  step('folding');
  const timings = runPasses(g, pipeline('fold'));
  const opCounts: Record<string, number> = {};
  for (const op of g.ops) opCounts[op.type] = (opCounts[op.type] ?? 0) + 1;
  step('running on the reference interpreter');
  const { tensors, ...run } = runModel(g, { inputs: path.join(path.dirname(model), 'test_data_set_0'), check: true });
  run.model = model;
  const logits = tensors.get('logits')!;
  const topTokens = [...logits.data]
    .map((logit, id) => ({ id, logit }))
    .sort((a, b) => b.logit - a.logit)
    .slice(0, 5);
  const data = path.join(path.dirname(model), 'test_data_set_0');
  step(`compiling for ${DEMO_HARDWARE}, simulating and verifying, and the npu baseline`);
  const page = reportModel(model, { hw: DEMO_HARDWARE, inputs: data });
  writeFileAtomic(opts.reportPath, page.html);
  step('generating tokens');
  const generate = generateTokens(bundledModel('gpt2_dynamic_decode'), { hw: DEMO_HARDWARE, promptIds: [5, 17, 42], steps: 7 });
  const machine = { ...page.summary, secondsByDevice: page.data.secondsByDevice };
  return { model, opsImported, opsFolded: g.ops.length, opCounts, timings, run, topTokens, machine, generate, reportPath: opts.reportPath };
}
