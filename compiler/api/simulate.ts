// A model on the whole simulated machine: specialise it to its inputs, fuse,
// place every op (the placement's optimum, or devices given by the caller),
// generate each op's code for its device, load what lives in the HBM-PIM
// banks before the model runs (weights, resident KV caches: not timed),
// execute everything in order with the copies between memories, and put
// the outputs beside the reference interpreter's (the oracle: the
// simulators compute the numbers). Compilation is compile.ts's; docs/runtime.md.

import type { Graph, Op, Value } from '../../ir/graph.js';
import { Tensor } from '../../ir/tensor.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import type { Device, Hardware } from '../../runtime-sim/hardware/types.js';
import { NpuMemory } from '../../runtime-sim/npu/memory.js';
import { PnmMemory } from '../../runtime-sim/pnm/memory.js';
import { executeMachine, type ExecStep, type MachineRun } from '../../runtime-sim/runtime/machine-exec.js';
import { heldWhenCarried, loadPim, newPimState, type PimState } from '../../runtime-sim/runtime/pim-exec.js';
import { machineChromeTrace, type MachineNpuEvent } from '../../runtime-sim/runtime/machine-trace.js';
import { compileModel } from './compile.js';
import { writeFileAtomic } from './files.js';
import { runGraph } from '../reference/interpreter.js';
import { modelAndInputs, readDram, writeDram } from './model-inputs.js';
import { checkEveryOp, type PerOpReport } from './per-op.js';

export interface SimulateOptions {
  hw?: string | Hardware;
  inputs: string | ReadonlyMap<string, Tensor>;
  /**
   * Devices: 'optimal' (default) places by the cost model; a function picks
   * per op (undefined: the NPU). Ops on devices the hardware lacks are errors.
   */
  placement?: 'optimal' | ((op: Op) => Device | undefined);
  /** false: timing only (no constants read, nothing laid out in the PIM banks, no outputs, no reference). Default true. */
  functional?: boolean;
  /** false: skip the reference interpreter (the oracle; `reference` is then empty). Default true. */
  reference?: boolean;
  /** KV regions in the HBM-PIM banks hold at least this many keys (compile.ts). */
  kvCapacity?: number;
  /**
   * HBM-PIM banks from an earlier run (pimc generate's previous step): when
   * this run lays the banks out alike (PimCode.layout), they are used as they
   * are: the model's weights and the caches KV appends keep are already
   * there; the rest (folded constants, caches no append keeps) is loaded.
   */
  carry?: PimCarry;
  /** Write a Chrome/Perfetto trace of the run here (runtime-sim/runtime/machine-trace.ts). */
  trace?: string;
  /** Also check every op on its own inputs against its kernel's bound (compiler/api/per-op.ts). */
  perOp?: boolean;
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface SimulateReport {
  model: string;
  hardware: string;
  dims: Record<string, number>;
  graph: Graph;
  run: MachineRun;
  /** Ops per device. */
  placement: Record<string, number>;
  outputs: Map<string, Tensor>;
  reference: Map<string, Tensor>;
  /** With perOp: every op against the reference op on its own inputs, within its kernel's bound. */
  perOp?: PerOpReport;
  /** The HBM-PIM banks after the run, for the next (absent: nothing on pim). */
  carry?: PimCarry;
  /** True when the banks came from `o.carry` (nothing reloaded but caches no append keeps). */
  carried: boolean;
}

export interface PimCarry {
  state: PimState;
  layout: string;
}

export function simulateModel(model: string | Graph, o: SimulateOptions): SimulateReport {
  const hw = typeof o.hw === 'object' ? o.hw : loadHardware(o.hw ?? 'npu');
  const { name, raw, feeds } = modelAndInputs(model, o.inputs);
  const { graph, dims, code } = compileModel(raw, { hw, inputs: feeds, placement: o.placement ?? 'optimal', kvCapacity: o.kvCapacity });

  const npu = new NpuMemory(hw);
  const pnm = hw.pnm ? new PnmMemory(hw) : undefined;
  const functional = o.functional ?? true;
  // inputs into their homes: DRAM, or the expander for those only PNM ops read (hetero.ts)
  const home = (v: Value) => {
    const r = code.resident.get(v);
    return r ? { mem: pnm!, at: r } : { mem: npu, at: code.dram.tensors.get(v)! };
  };
  for (const v of graph.inputs) {
    const h = home(v);
    writeDram(h.mem, h.at, feeds.get(v.name)!);
  }
  // weights: in DRAM (not timed: they are loaded before the model runs)
  if (functional) {
    for (const v of graph.constants) writeDram(npu, code.dram.tensors.get(v)!, v.constant!.get());
  }
  // the PIM banks of the run; weights and resident KV caches in them before the first step (not timed;
  // a timing-only run needs no data in them)
  const carried = !!code.pim && o.carry?.layout === code.pim.layout;
  const pim = code.pim ? (carried ? o.carry!.state : newPimState(hw)) : undefined;
  if (pim && functional) loadPim(carried ? code.pim!.loads.filter((l) => !heldWhenCarried(l)) : code.pim!.loads, pim, npu);
  const steps: ExecStep[] = code.steps.map((s): ExecStep =>
    s.device === 'link' ? s
      : s.device === 'npu' ? { device: 'npu', name: s.op.name, program: s.program }
        : s.device === 'pim' ? { device: 'pim', name: s.op.name, work: s.work }
          : { device: 'pnm', name: s.op.name, program: s.program });
  const npuEvents: MachineNpuEvent[] = [];
  o.onProgress?.('simulate', 0, steps.length);
  const run = executeMachine(steps, { npu, pnm, pim }, {
    hw, functional, onStep: (d, t) => o.onProgress?.('simulate', d, t),
    ...(o.trace ? { npuTrace: (e: MachineNpuEvent) => npuEvents.push(e) } : {}),
  });
  if (o.trace) writeFileAtomic(o.trace, machineChromeTrace(run, hw, npuEvents).toJSON());
  const outputs = new Map(functional ? graph.outputs.map((v) => { const h = home(v); return [v.name, readDram(h.mem, h.at, v.type!.dtype)] as const; }) : []);
  const reference = functional && (o.reference ?? true) ? runGraph(graph, feeds).outputs : new Map<string, Tensor>();
  const placement: Record<string, number> = {};
  for (const op of graph.ops) placement[op.device!] = (placement[op.device!] ?? 0) + 1;
  const perOp = functional && o.perOp ? checkEveryOp(code, npu, pnm) : undefined;
  return {
    model: name, hardware: hw.name, dims, graph, run, placement, outputs, reference,
    ...(perOp ? { perOp } : {}),
    ...(pim ? { carry: { state: pim, layout: code.pim!.layout } } : {}),
    carried,
  };
}
