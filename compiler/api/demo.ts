// The main job on a bundled model. For now: import the bundled GPT-2 decode
// step, fold it, run it on the reference interpreter and check it against the
// PyTorch reference outputs that came with it.

import path from 'node:path';
import type { Graph } from '../../ir/graph.js';
import { importOnnxFile } from '../frontend/onnx-import.js';
import { runPasses, type PassTiming } from '../passes/manager.js';
import { pipeline } from '../passes/pipelines.js';
import { runModel, type RunReport } from './run.js';
import { bundledModel } from './package-root.js';

export interface DemoReport {
  model: string;
  opsImported: number;
  opsFolded: number;
  opCounts: Record<string, number>;
  timings: PassTiming[];
  run: Omit<RunReport, 'tensors'>;
  /** The five most likely next tokens (id and logit). */
  topTokens: { id: number; logit: number }[];
}

export function demo(opts: { onStep?: (text: string) => void } = {}): DemoReport {
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
  return { model, opsImported, opsFolded: g.ops.length, opCounts, timings, run, topTokens };
}
