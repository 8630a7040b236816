// What simulateModel and simulateOnNpu share: the model and its inputs read
// and checked, and tensors moved between the host and the NPU's DRAM.

import { fail, q } from '../../ir/diagnostics.js';
import type { Graph, Value } from '../../ir/graph.js';
import { Tensor, sizeOf } from '../../ir/tensor.js';
import type { NpuMemoryApi } from '../../runtime-sim/npu/api.js';
import type { DramTensor } from '../../backends/npu/lower/types.js';
import { readTensors } from '../reference/test-data.js';
import { loadModel } from './model.js';

/** The model as imported and its input tensors (from a test-data folder or given), every input present. */
export function modelAndInputs(model: string | Graph, inputs: string | ReadonlyMap<string, Tensor>): { name: string; raw: Graph; feeds: Map<string, Tensor> } {
  const name = typeof model === 'string' ? model : model.name;
  const raw = typeof model === 'string' ? loadModel(model, { stage: 'onnx' }).graph : model;
  const feeds = typeof inputs === 'string' ? readTensors(inputs, raw, 'input') : new Map(inputs);
  for (const v of raw.inputs) if (!feeds.has(v.name)) fail('PIMC0605', `no tensor for input ${q(v.name)} of ${q(name)}`);
  return { name, raw, feeds };
}

/** Largest finite FP16 value. */
const F16_MAX = 65504;

/**
 * Host write of a tensor into its DRAM home: integers as i32; floats to f16
 * with saturation, so a finite value beyond the FP16 range (exporters write
 * masks as (1 - m) x -FLT_MAX) becomes +-65504, not an infinity that would
 * turn 0 x fill into NaN. Infinities and NaN stay what they are.
 */
export function writeDram(mem: NpuMemoryApi, d: DramTensor, t: Tensor): void {
  const n = t.data.length;
  if (d.dtype === 'f16') {
    // a typed copy in a plain loop: weights of whole models pass through here
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = t.data[i]!;
      v[i] = x > F16_MAX && x !== Infinity ? F16_MAX : x < -F16_MAX && x !== -Infinity ? -F16_MAX : x;
    }
    mem.writeF16(d.addr, v);
  } else {
    // truncated but not wrapped: the memory's i32 store decides what happens beyond its range
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = Math.trunc(t.data[i]!);
    mem.writeI32(d.addr, v);
  }
}

/** Host read of a value from its DRAM home, as a tensor of the value's dtype. */
export function readDram(mem: NpuMemoryApi, d: DramTensor, v: Value): Tensor {
  const n = sizeOf(d.shape);
  return Tensor.from(v.type!.dtype, d.shape, d.dtype === 'f16' ? mem.readF16(d.addr, n) : mem.readI32(d.addr, n));
}
