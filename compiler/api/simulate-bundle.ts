// `pimc simulate`: a bundle run on the simulated machine. Everything comes
// from the bundle: the hardware it was compiled for, the programs and
// streams each device executes, where every tensor lives. The inputs are
// written into their DRAM homes, the weights loaded (embedded, or read from
// the model's files), what lives in the HBM-PIM banks laid out, and the
// steps executed in order (runtime-sim/runtime/machine-exec.ts). When the
// inputs folder also has output_N.pb, every output is compared with it
// within the FP16 tolerance `pimc verify` states.

import fs from 'node:fs';
import path from 'node:path';
import { fail, q } from '../../ir/diagnostics.js';
import type { Tensor } from '../../ir/tensor.js';
import { NpuMemory } from '../../runtime-sim/npu/memory.js';
import type { DramTensor } from '../../backends/npu/lower/types.js';
import { PnmMemory } from '../../runtime-sim/pnm/memory.js';
import { executeMachine, type MachineRun } from '../../runtime-sim/runtime/machine-exec.js';
import { machineChromeTrace, type MachineNpuEvent } from '../../runtime-sim/runtime/machine-trace.js';
import { loadPim, newPimState } from '../../runtime-sim/runtime/pim-exec.js';
import type { BundleTensor } from '../bundle/manifest.js';
import { readBundle } from '../bundle/read.js';
import { encodeTensorFile } from '../frontend/tensor-proto.js';
import { readTensors } from '../reference/test-data.js';
import { readDram, writeDram, type HostMemory } from './model-inputs.js';
import { judgeOutput, TOLERANCE_RULE, type VerifiedOutput } from './verify.js';
import { writeFileAtomic, writeFilesAtomic } from './files.js';

export const SIMULATE_SCHEMA = 'pimc.simulate/1';

export interface SimulateBundleOptions {
  /**
   * Folder with input_N.pb (and output_N.pb to compare with), or the tensors
   * by input name. Timing only needs none: the time does not depend on the
   * values (a 7B model's KV caches need not be made to be timed).
   */
  inputs?: string | ReadonlyMap<string, Tensor>;
  /** false: timing only (no weights, no numbers, no outputs). */
  functional?: boolean;
  /** Write the outputs here as output_N.pb. */
  outputs?: string;
  /** Write a Chrome/Perfetto trace of the run here. */
  trace?: string;
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface SimulateBundleReport {
  schema: typeof SIMULATE_SCHEMA;
  bundle: string;
  model: string;
  hardware: string;
  dims: Record<string, number>;
  functional: boolean;
  /** Simulated time of one run of the model. */
  seconds: number;
  secondsByDevice: Record<string, number>;
  placement: Record<string, number>;
  steps: number;
  pim?: MachineRun['pim'];
  /** Outputs compared with the folder's output_N.pb (empty when it has none). */
  checks: VerifiedOutput[];
  tolerance: string;
  /** True unless a compared output is outside its tolerance. */
  ok: boolean;
  timeline: MachineRun['timeline'];
}

/** Where the host finds a graph input or output: its DRAM home, or the expander for one that lives there. */
const homeOf = (t: BundleTensor, npu: HostMemory, pnm: HostMemory | undefined): { mem: HostMemory; at: DramTensor } => {
  if (!t.pnm) return { mem: npu, at: t.dram };
  if (!pnm) fail('PIMC1303', `${q(t.name)} lives in the CXL expander, but the bundle's hardware has none`);
  return { mem: pnm, at: t.pnm };
};

function readOutput(npu: HostMemory, pnm: HostMemory | undefined, t: BundleTensor): Tensor {
  const { mem, at } = homeOf(t, npu, pnm);
  return readDram(mem, at, t.dtype);
}

export function simulateBundle(dir: string, o: SimulateBundleOptions): { report: SimulateBundleReport; outputs: Map<string, Tensor> } {
  const b = readBundle(dir);
  const m = b.manifest;
  const functional = o.functional ?? true;
  if (o.inputs === undefined && functional) fail('PIMC0601', `simulating bundle ${q(dir)} computes numbers from its inputs: give --inputs DIR, or --timing-only`);
  const feeds = typeof o.inputs === 'string' ? readTensors(o.inputs, m, 'input') : new Map(o.inputs ?? []);
  const expected = typeof o.inputs === 'string' && functional ? readTensors(o.inputs, m, 'output') : new Map<string, Tensor>();
  for (const x of o.inputs === undefined ? [] : m.inputs) {
    const t = feeds.get(x.name);
    if (!t) fail('PIMC0601', `no tensor for input ${q(x.name)} of bundle ${q(dir)}`);
    if (t.shape.length !== x.shape.length || t.shape.some((d, i) => d !== x.shape[i])) {
      fail('PIMC0602', `input ${q(x.name)} is [${t.shape.join(', ')}], but bundle ${q(dir)} was compiled for [${x.shape.join(', ')}]; compile again for these sizes`);
    }
  }
  for (const name of feeds.keys()) if (!m.inputs.some((x) => x.name === name)) fail('PIMC0601', `input ${q(name)} is not an input of bundle ${q(dir)}`);

  const npu = new NpuMemory(b.hw);
  const pnm = b.hw.pnm ? new PnmMemory(b.hw) : undefined;
  if (functional) {
    for (const x of m.inputs) {
      const { mem, at } = homeOf(x, npu, pnm);
      writeDram(mem, at, feeds.get(x.name)!);
    }
  }
  o.onProgress?.('load', 0, 1);
  if (functional) b.loadWeights(npu);
  const pim = b.pimLoads ? newPimState(b.hw) : undefined;
  if (pim && functional) loadPim(b.pimLoads!, pim, npu);
  o.onProgress?.('load', 1, 1);

  const npuEvents: MachineNpuEvent[] = [];
  const run = executeMachine(b.steps, { npu, pnm, pim }, {
    hw: b.hw,
    functional,
    ...(o.trace ? { npuTrace: (e: MachineNpuEvent) => npuEvents.push(e) } : {}),
    onStep: (d, t) => o.onProgress?.('simulate', d, t),
  });

  const outputs = new Map(functional ? m.outputs.map((x) => [x.name, readOutput(npu, pnm, x)] as const) : []);
  const checks = m.outputs.filter((x) => expected.has(x.name)).map((x) => {
    const want = expected.get(x.name)!;
    const got = outputs.get(x.name)!;
    if (want.size !== got.size) fail('PIMC0605', `output_N.pb for ${q(x.name)} has ${want.size} elements; the bundle computes ${got.size}`);
    return judgeOutput(x.name, got, want, x.depth ?? 0, 'test data');
  });
  if (o.outputs && functional) writeFilesAtomic(o.outputs, new Map([...outputs].map(([name, t], i) => [`output_${i}.pb`, encodeTensorFile(name, t)] as const)));
  if (o.trace) writeFileAtomic(o.trace, machineChromeTrace(run, b.hw, npuEvents).toJSON());
  return {
    outputs,
    report: {
      schema: SIMULATE_SCHEMA,
      bundle: dir,
      model: m.model,
      hardware: m.hardware.name,
      dims: m.dims,
      functional,
      seconds: run.seconds,
      secondsByDevice: run.secondsByDevice,
      placement: m.placement,
      steps: b.steps.length,
      ...(run.pim ? { pim: run.pim } : {}),
      checks,
      tolerance: TOLERANCE_RULE,
      ok: checks.every((c) => c.ok),
      timeline: run.timeline,
    },
  };
}

/** True when `dir` looks like a bundle (for messages that suggest the right command). */
export function isBundleDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'manifest.json'));
}
