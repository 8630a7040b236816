// The per-op check of a simulated model: every op's result against the
// reference op run on the very inputs the device used (read back from the
// device's memory after the run: the DRAM plan never reuses memory, and
// values computed in the expander keep their expander copy), within the
// error bound that op's kernel derives (backends/npu/bounds,
// backends/cxl-pnm/bounds). The first op whose ratio |got - want| / bound
// exceeds 1 is where a wrong result starts.
//
// Ops on HBM-PIM read their inputs from DRAM and write their results there,
// so they are checked the same way (backends/hbm-pim/bounds.ts); attention
// on PIM has no derived bound and is checked end to end only (unchecked).

import type { Graph, Op, Value } from '../../ir/graph.js';
import { hasNpuBound, worstBoundRatio } from '../../backends/npu/bounds/index.js';
import { hasPnmBound, worstPnmBoundRatio } from '../../backends/cxl-pnm/bounds/index.js';
import { hasPimBound, worstPimBoundRatio } from '../../backends/hbm-pim/bounds.js';
import type { NpuMemoryApi } from '../../runtime-sim/npu/api.js';
import type { PnmMemoryApi } from '../../runtime-sim/pnm/api.js';
import { isAlias } from '../codegen/dram-plan.js';
import type { MachineCode } from '../codegen/hetero.js';
import { runOp } from '../reference/interpreter.js';
import { readDram } from './model-inputs.js';

export interface OpCheck {
  name: string;
  /** Where the worst element is: output, index, values and its bound. */
  worst?: { output: number; index: number; got: number; want: number; bound: number };
  type: string;
  device: string;
  /** Worst |got - want| / bound over the op's outputs (<= 1: within its bound); null: not checked. */
  ratio: number | null;
  /** Why an op was not checked. */
  note?: string;
}

export interface PerOpReport {
  checked: number;
  unchecked: number;
  /** The first op (program order) outside its bound. */
  firstFailure?: OpCheck;
  ops: OpCheck[];
}

const typeName = (op: Op) => (op.domain ? `${op.domain}.${op.type}` : op.type);

export function checkEveryOp(code: MachineCode, npu: NpuMemoryApi, pnm: PnmMemoryApi | undefined): PerOpReport {
  const g: Graph = code.graph;
  const ops: OpCheck[] = [];
  for (const op of g.ops) {
    if (isAlias(op)) continue;
    const device = op.device ?? 'npu';
    const base = { name: op.name, type: typeName(op), device };
    const fromDram = (v: Value) => readDram(npu, code.dram.tensors.get(v)!, v.type!.dtype);
    if (device === 'npu' && hasNpuBound(op.domain, op.type)) {
      const inputs = op.inputs.map((v) => (v ? fromDram(v) : null));
      const got = op.outputs.map(fromDram);
      const want = runOp(g, op, inputs);
      const w = worstBoundRatio(op, inputs, got, want);
      ops.push({ ...base, ratio: w.ratio, worst: { output: w.output, index: w.index, got: w.got, want: w.want, bound: w.bound } });
    } else if (device === 'pim' && hasPimBound(op.domain, op.type)) {
      const inputs = op.inputs.map((v) => (v ? fromDram(v) : null));
      const got = op.outputs.map(fromDram);
      const want = runOp(g, op, inputs);
      const w = worstPimBoundRatio(op, inputs, got, want);
      ops.push({ ...base, ratio: w.ratio, worst: { output: w.output, index: w.index, got: w.got, want: w.want, bound: w.bound } });
    } else if (device === 'pnm' && pnm && hasPnmBound(op.domain, op.type)) {
      const fromPnm = (v: Value) => readDram(pnm, code.pnm.get(v)!, v.type!.dtype);
      const inputs = op.inputs.map((v) => (v ? fromPnm(v) : null));
      const got = op.outputs.map(fromPnm);
      const want = runOp(g, op, inputs);
      const w = worstPnmBoundRatio(op, inputs, got, want, g.opset);
      ops.push({ ...base, ratio: w.ratio, worst: { output: w.output, index: w.index, got: w.got, want: w.want, bound: w.bound } });
    } else {
      ops.push({ ...base, ratio: null, note: `no ${device} bound for ${base.type}: checked end to end` });
    }
  }
  const checked = ops.filter((o) => o.ratio !== null);
  return {
    checked: checked.length,
    unchecked: ops.length - checked.length,
    firstFailure: checked.find((o) => !(o.ratio! <= 1)),
    ops,
  };
}
