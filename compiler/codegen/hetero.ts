// Code generation for the whole machine: each op of a static, placed graph
// (op.device) through its device's backend, in program order.
//
// 1. Every value has a home in the NPU's DRAM (dram-plan.ts): the host side,
//    where graph inputs arrive and outputs are read.
// 2. An op on the CXL-PNM engine needs its inputs in the expander: a value
//    already there (made by an earlier PNM op) is used in place, any other is
//    copied over the link first. Its outputs stay in the expander and are
//    copied back to DRAM only for a consumer elsewhere or a graph output.
// 3. NPU ops read and write DRAM; a value whose latest copy is in the
//    expander is copied back before its first NPU reader.
// 4. An op on HBM-PIM (pim-steps.ts) reads its inputs from their DRAM homes
//    and writes its outputs there (the host, i.e. the NPU side, fills the
//    command streams and reduces what they read back); what it keeps in the
//    banks (weights, KV caches) is laid out by the loads of `pim`, before
//    the model runs. A value whose latest copy is in the expander is copied
//    back first, as for the NPU.
// 5. Graph inputs that only PNM ops read live in the expander from the start,
//    and graph outputs last written there stay there (`resident`): the host
//    writes and reads them where they live, as it does with DRAM homes, so a
//    decode step's KV cache on the expander is not carried over the link and
//    back every step.
// Each copy is an explicit step, so the runtime executes and times it.

import { fail, q } from '../../ir/diagnostics.js';
import { isFloat } from '../../ir/dtype.js';
import type { Graph, Op, Value } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';
import type { NpuProgram } from '../../backends/npu/instr.js';
import { loweringFor } from '../../backends/npu/lower/index.js';
import type { PnmProgram } from '../../backends/cxl-pnm/instr.js';
import '../../backends/cxl-pnm/lower/index.js';
import { pnmLoweringFor } from '../../backends/cxl-pnm/lower/registry.js';
import type { PnmTensor } from '../../backends/cxl-pnm/lower/types.js';
import type { ExecCopy } from '../../runtime-sim/runtime/machine-exec.js';
import type { PimWork } from '../../runtime-sim/runtime/pim-exec.js';
import { bumpAllocator, isAlias, planDram, staticShape, type DramPlan } from './dram-plan.js';
import { PimCodegen, type PimCode } from './pim-steps.js';

/** A copy between the NPU's DRAM and the expander (over the CXL link): what the runtime executes. */
export type LinkCopy = ExecCopy;

export type Step =
  | { device: 'npu'; op: Op; program: NpuProgram }
  | { device: 'pnm'; op: Op; program: PnmProgram }
  | { device: 'pim'; op: Op; work: PimWork }
  | { device: 'link'; copies: LinkCopy[] };

export interface MachineCode {
  graph: Graph;
  dram: DramPlan;
  /** Where each value's latest copy is in the expander (values a PNM op touched). */
  pnm: Map<Value, PnmTensor>;
  steps: Step[];
  /** What the PIM steps need in the banks before the model runs, and the bank rows they use (undefined: no op on pim). */
  pim?: PimCode;
  /** Graph inputs and outputs whose home is the expander (the host writes or reads them there). */
  resident: Map<Value, PnmTensor>;
}

const PNM_ALIGN = 4096;

export interface MachineOptions {
  /** KV regions in the HBM-PIM banks hold at least this many keys (pim-steps.ts). */
  kvCapacity?: number;
}

export function generateMachine(g: Graph, hw: Hardware, o: MachineOptions = {}): MachineCode {
  const dram = planDram(g);
  const pnmTake = bumpAllocator(PNM_ALIGN).take;
  const pnmHome = new Map<Value, PnmTensor>();
  /** Values whose DRAM copy is stale (the expander has the latest). */
  const staleInDram = new Set<Value>();
  const steps: Step[] = [];
  let pim: PimCodegen | undefined;
  const pnmTensor = (v: Value): PnmTensor => {
    let t = pnmHome.get(v);
    if (!t) {
      const shape = staticShape(v);
      const dtype = isFloat(v.type!.dtype) ? 'f16' : 'i32';
      t = { addr: pnmTake(sizeOf(shape) * (dtype === 'f16' ? 2 : 4)), dtype, shape };
      pnmHome.set(v, t);
    }
    return t;
  };
  const copyBack = (vs: Value[]) => {
    const copies = vs.filter((v) => staleInDram.delete(v)).map((v) => ({ value: v.name, dram: dram.tensors.get(v)!, pnm: pnmHome.get(v)!, toDevice: false }));
    if (copies.length) steps.push({ device: 'link', copies });
  };

  const resident = new Map<Value, PnmTensor>();
  if (hw.pnm) {
    const users = g.users();
    for (const v of g.inputs) {
      const readers = users.get(v) ?? [];
      if (readers.length && !g.outputs.includes(v) && readers.every((op) => op.device === 'pnm' && !isAlias(op))) {
        resident.set(v, pnmTensor(v));
        staleInDram.add(v);
      }
    }
  }

  for (const op of g.ops) {
    const device = op.device ?? 'npu';
    const inputs = op.inputs.filter((v): v is Value => !!v);
    if (isAlias(op)) {
      // a view of a value in the expander is read back first (its DRAM home is shared)
      copyBack(inputs);
      continue;
    }
    if (device === 'npu') {
      copyBack(inputs);
      const ctx = { hw, npu: hw.npu!, op, inputs: op.inputs.map((v) => (v ? dram.tensors.get(v)! : null)), outputs: op.outputs.map((v) => dram.tensors.get(v)!), scratch: dram.scratch };
      steps.push({ device: 'npu', op, program: loweringFor(op.domain, op.type, op.name)(ctx) });
    } else if (device === 'pnm') {
      if (!hw.pnm) fail('PIMC0809', `op ${q(op.name)} is placed on pnm, but hardware ${q(hw.name)} has no CXL-PNM engine`);
      const copies = inputs.filter((v) => !pnmHome.has(v)).map((v) => ({ value: v.name, dram: dram.tensors.get(v)!, pnm: pnmTensor(v), toDevice: true }));
      if (copies.length) steps.push({ device: 'link', copies });
      const ctx = {
        hw, pnm: hw.pnm, op, opset: g.opset,
        inputs: op.inputs.map((v) => (v ? pnmTensor(v) : null)),
        outputs: op.outputs.map(pnmTensor),
        scratch: pnmTake,
      };
      steps.push({ device: 'pnm', op, program: pnmLoweringFor(op.domain, op.type, op.name)(ctx) });
      op.outputs.forEach((v) => staleInDram.add(v));
    } else if (device === 'pim') {
      if (!hw.pim) fail('PIMC0809', `op ${q(op.name)} is placed on pim, but hardware ${q(hw.name)} has no HBM-PIM`);
      copyBack(inputs);
      pim ??= new PimCodegen(g, hw, dram, o.kvCapacity);
      steps.push({ device: 'pim', op, work: pim.step(op) });
    } else {
      fail('PIMC0809', `op ${q(op.name)} is placed on ${device}; the machine runtime runs npu, pim and pnm ops`);
    }
  }
  for (const v of g.outputs) {
    if (staleInDram.delete(v)) resident.set(v, pnmHome.get(v)!);
  }
  return { graph: g, dram, pnm: pnmHome, steps, pim: pim?.finish(), resident };
}
