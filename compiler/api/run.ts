// Running a model on the reference interpreter, optionally checking the
// results against expected outputs in the test-data folder.

import path from 'node:path';
import { fail, q } from '../../ir/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { encodeTensorFile } from '../frontend/tensor-proto.js';
import { runGraph } from '../reference/interpreter.js';
import { compareTensor, maxAbsError, readTensors, type Tolerance } from '../reference/test-data.js';
import { writeFilesAtomic } from './files.js';
import { loadModel, type LoadOptions } from './model.js';

/** Default for `pimc run --check`: what the issue asks of the shared models. */
export const RUN_CHECK_TOLERANCE: Tolerance = { atol: 1e-4, rtol: 0 };

export interface RunModelOptions extends LoadOptions {
  /** Folder with input_N.pb (and output_N.pb for checks). */
  inputs: string;
  /** Write output_N.pb files here. */
  outputs?: string;
  /** Compare with output_N.pb in the inputs folder. */
  check?: boolean;
  tolerance?: Tolerance;
}

export interface OutputReport {
  name: string;
  dtype: string;
  shape: number[];
  /** With check: the largest absolute difference from the expected tensor. */
  maxAbsError?: number;
  ok?: boolean;
  reason?: string;
}

export interface RunReport {
  model: string;
  outputs: OutputReport[];
  /** False when a check failed. */
  ok: boolean;
  /** Bound symbolic dims, e.g. { batch: 1, seq: 16 }. */
  dims: Record<string, number>;
  ops: number;
  ms: { import: number; passes: number; run: number };
  tensors: Map<string, Tensor>;
}

export function runModel(model: string | Graph, opts: RunModelOptions): RunReport {
  const loaded = typeof model === 'string' ? loadModel(model, opts) : { graph: model, file: model.name, timings: [], importMs: 0 };
  const g = loaded.graph;
  const inputs = readTensors(opts.inputs, g, 'input');
  const expected = opts.check ? readTensors(opts.inputs, g, 'output') : undefined;
  if (expected && expected.size === 0) fail('PIMC0605', `--check needs output_N.pb files in ${q(opts.inputs)}`);
  const t0 = performance.now();
  const { outputs, dims } = runGraph(g, inputs);
  const runMs = performance.now() - t0;
  const tol = opts.tolerance ?? RUN_CHECK_TOLERANCE;
  const reports: OutputReport[] = [...outputs].map(([name, t]) => {
    const r: OutputReport = { name, dtype: t.dtype, shape: [...t.shape] };
    const want = expected?.get(name);
    if (want) {
      const m = compareTensor(name, t, want, tol);
      r.maxAbsError = m ? m.maxAbsError : maxAbsError(t, want);
      r.ok = !m;
      if (m) r.reason = m.reason;
    }
    return r;
  });
  if (opts.outputs) {
    const files = new Map<string, Uint8Array>();
    [...outputs].forEach(([name, t], i) => files.set(`output_${i}.pb`, encodeTensorFile(name, t)));
    writeFilesAtomic(path.resolve(opts.outputs), files);
  }
  return {
    model: loaded.file,
    outputs: reports,
    ok: reports.every((r) => r.ok !== false),
    dims: Object.fromEntries(dims),
    ops: g.ops.length,
    ms: { import: loaded.importMs, passes: loaded.timings.reduce((s, t) => s + t.ms, 0), run: runMs },
    tensors: outputs,
  };
}
