// NPU code generation for a whole static graph: DRAM plan, then every op
// through its lowering (backends/npu/lower), in program order; view ops
// alias their input and emit nothing. The programs run one after the other
// (an op's inputs are complete when it starts).

import type { Graph, Op } from '../../ir/graph.js';
import { fail, q } from '../../ir/diagnostics.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';
import type { NpuProgram } from '../../backends/npu/instr.js';
import { loweringFor } from '../../backends/npu/lower/index.js';
import { isAlias, planDram, type DramPlan } from './dram-plan.js';

export interface NpuStep {
  op: Op;
  program: NpuProgram;
}

export interface NpuCode {
  graph: Graph;
  plan: DramPlan;
  steps: NpuStep[];
}

export function generateNpu(g: Graph, hw: Hardware, onProgress?: (done: number, total: number) => void): NpuCode {
  const npu = hw.npu;
  if (!npu) fail('PIMC1102', `hardware ${q(hw.name)} has no NPU`);
  const plan = planDram(g);
  const ops = g.ops.filter((op) => !isAlias(op));
  const steps = ops.map((op, i) => {
    const ctx = {
      hw, npu, op,
      inputs: op.inputs.map((v) => (v ? plan.tensors.get(v)! : null)),
      outputs: op.outputs.map((v) => plan.tensors.get(v)!),
      scratch: plan.scratch,
    };
    const program = loweringFor(op.domain, op.type, op.name)(ctx);
    onProgress?.(i + 1, ops.length);
    return { op, program };
  });
  return { graph: g, plan, steps };
}
