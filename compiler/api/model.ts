// Loading a model at a stage of the pipeline: the ONNX import, the typed IR,
// the folded IR. Accepts ONNX files and textual IR files (.ir).

import fs from 'node:fs';
import path from 'node:path';
import { fail, q } from '../../ir/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import { parseGraph } from '../../ir/parser.js';
import { verifyGraph } from '../../ir/verifier.js';
import { importOnnxFile } from '../frontend/onnx-import.js';
import { inferShapes } from '../passes/infer-shapes.js';
import { runPasses, type PassTiming, type PipelineOptions } from '../passes/manager.js';
import { pipeline } from '../passes/pipelines.js';

/** Stages `pimc import --emit` can stop at, in pipeline order. */
export const STAGES = ['onnx', 'ir', 'folded', 'fused'] as const;
export type Stage = (typeof STAGES)[number];

export interface LoadOptions extends Omit<PipelineOptions, 'onPrint'> {
  /** Where to stop (default 'folded'). */
  stage?: Stage;
  onPrint?: (passName: string, g: Graph) => void;
}

export interface LoadedModel {
  graph: Graph;
  file: string;
  /** One entry per pass run. */
  timings: PassTiming[];
  importMs: number;
}

export function checkStage(s: string): Stage {
  if ((STAGES as readonly string[]).includes(s)) return s as Stage;
  return fail('PIMC0703', `unknown stage ${q(s)}; use one of ${STAGES.join(', ')}`);
}

/** Reads an ONNX model (or a .ir text file) and runs the pipeline up to `stage`. */
export function loadModel(file: string, opts: LoadOptions = {}): LoadedModel {
  const stage = opts.stage ?? 'folded';
  const t0 = performance.now();
  const graph = isIrText(file) ? readIrText(file) : importOnnxFile(file, { noInfer: stage === 'onnx' });
  const importMs = performance.now() - t0;
  if (stage === 'onnx') return { graph, file, timings: [], importMs };
  verifyGraph(graph, { requireTypes: true });
  const timings = stage === 'ir' ? [] : runPasses(graph, pipeline(stage === 'folded' ? 'fold' : 'fuse'), opts);
  return { graph, file, timings, importMs };
}

function isIrText(file: string): boolean {
  return /\.(ir|pimc)$/i.test(file);
}

function readIrText(file: string): Graph {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return fail('PIMC0101', `IR file ${q(file)} cannot be read`);
  }
  const g = parseGraph(text, { baseDir: path.dirname(path.resolve(file)), fileName: file });
  verifyGraph(g);
  inferShapes(g);
  return g;
}
