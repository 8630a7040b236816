// A whole model on the NPU simulator: specialise its dims to the inputs,
// fold and fuse, generate every op's NPU program, execute them all on one
// simulated memory, and put the results beside the reference interpreter's
// (fp32, on the same graph) and each op's simulated time beside the
// placement's estimate for the NPU (the cost model of compiler/placement).
//
// The simulator computes the outputs from what the programs do; the
// reference only serves as the oracle they are compared with.

import type { Graph } from '../../ir/graph.js';
import { Tensor } from '../../ir/tensor.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';
import { NpuMemory } from '../../runtime-sim/npu/memory.js';
import type { NpuRunStats, NpuTraceEvent } from '../../runtime-sim/npu/api.js';
import { executeNpu } from '../../runtime-sim/runtime/npu-exec.js';
import { analyzeOps } from '../analysis/op-costs.js';
import type { Binding } from '../analysis/scenario.js';
import { generateNpu } from '../codegen/npu.js';
import { runPasses } from '../passes/manager.js';
import { pipeline } from '../passes/pipelines.js';
import { dimsFromInputs, specializeDims } from '../passes/specialize.js';
import { CostModel } from '../placement/cost-model.js';
import { runGraph } from '../reference/interpreter.js';
import { loadModel } from './model.js';
import { modelAndInputs, readDram, writeDram } from './model-inputs.js';

export interface NpuSimOptions {
  hw?: string | Hardware;
  /** A test-data folder (input_N.pb) or the tensors by input name. */
  inputs: string | ReadonlyMap<string, Tensor>;
  trace?: (e: NpuTraceEvent & { step: string }) => void;
  /** false: timing only, for models too big to compute in JS (no outputs, no checks). */
  functional?: boolean;
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface NpuOpStep {
  name: string;
  type: string;
  cycles: number;
  seconds: number;
  /** The placement's estimate for this op on the NPU. */
  estimateSeconds: number;
  stats: NpuRunStats;
}

export interface NpuOutputCheck {
  name: string;
  shape: number[];
  maxAbsError: number;
  /** max |reference|: the scale errors are judged against. */
  maxAbsReference: number;
}

export interface NpuSimReport {
  model: string;
  hardware: string;
  dims: Record<string, number>;
  cycles: number;
  seconds: number;
  steps: NpuOpStep[];
  outputs: Map<string, Tensor>;
  reference: Map<string, Tensor>;
  checks: NpuOutputCheck[];
}

/** The graph specialised to the inputs' sizes and fused, ready for code generation. */
export function prepareStatic(model: string | Graph, feeds: ReadonlyMap<string, Tensor>): { graph: Graph; dims: Map<string, number> } {
  const graph = typeof model === 'string' ? loadModel(model, { stage: 'onnx' }).graph : model;
  const dims = dimsFromInputs(graph, feeds);
  specializeDims(graph, dims);
  runPasses(graph, pipeline('fuse'));
  return { graph, dims };
}

export function simulateOnNpu(model: string | Graph, o: NpuSimOptions): NpuSimReport {
  const hw = typeof o.hw === 'object' ? o.hw : loadHardware(o.hw ?? 'npu');
  const { name, raw, feeds } = modelAndInputs(model, o.inputs);
  const { graph, dims } = prepareStatic(raw, feeds);

  const code = generateNpu(graph, hw, (d, t) => o.onProgress?.('lower', d, t));
  const mem = new NpuMemory(hw);
  for (const v of graph.inputs) writeDram(mem, code.plan.tensors.get(v)!, feeds.get(v.name)!);
  // timing only: weights stay unread (zero pages), so big models need not load them
  if (o.functional ?? true) for (const v of graph.constants) writeDram(mem, code.plan.tensors.get(v)!, v.constant!.get());
  const functional = o.functional ?? true;
  const run = executeNpu(code.steps.map((s) => ({ name: s.op.name, program: s.program })), mem, {
    hw,
    functional,
    ...(o.trace ? { trace: o.trace } : {}),
    onStep: (d, t) => o.onProgress?.('simulate', d, t),
  });
  const outputs = new Map(functional ? graph.outputs.map((v) => [v.name, readDram(mem, code.plan.tensors.get(v)!, v.type!.dtype)] as const) : []);

  // the oracle: the reference interpreter on the same graph
  const reference = functional ? runGraph(graph, feeds).outputs : new Map<string, Tensor>();
  const checks = functional ? graph.outputs.map((v) => compare(v.name, outputs.get(v.name)!, reference.get(v.name)!)) : [];

  const binding: Binding = { phase: 'prefill', batch: 1, kvLen: 0, env: new Map(), batchScale: 1, notes: [] };
  const works = new Map(analyzeOps(graph, binding).map((w) => [w.op, w] as const));
  const cost = new CostModel(hw);
  const clock = hw.npu!.clockGHz * 1e9;
  const steps = code.steps.map((s, i): NpuOpStep => {
    const st = run.steps[i]!.stats;
    const w = works.get(s.op);
    return {
      name: s.op.name,
      type: s.op.domain ? `${s.op.domain}.${s.op.type}` : s.op.type,
      cycles: st.cycles,
      seconds: st.cycles / clock,
      estimateSeconds: w ? cost.estimate(w, 'npu').seconds : 0,
      stats: st,
    };
  });
  return { model: name, hardware: hw.name, dims: Object.fromEntries(dims), cycles: run.cycles, seconds: run.seconds, steps, outputs, reference, checks };
}

function compare(name: string, got: Tensor, want: Tensor): NpuOutputCheck {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.size; i++) {
    const w = want.data[i]!;
    const g = got.data[i]!;
    scale = Math.max(scale, Math.abs(w));
    const e = Number.isNaN(g) !== Number.isNaN(w) ? Infinity : Math.abs(g - w);
    if (!(e <= err)) err = Number.isNaN(e) ? Infinity : e;
  }
  return { name, shape: [...want.shape], maxAbsError: err, maxAbsReference: scale };
}
