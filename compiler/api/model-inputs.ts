// What simulateModel and simulateOnNpu share: the model and its inputs read
// and checked, and tensors moved between the host and the NPU's DRAM.

import { fail, q } from '../../ir/diagnostics.js';
import type { DType } from '../../ir/dtype.js';
import type { Graph } from '../../ir/graph.js';
import { Tensor, sizeOf } from '../../ir/tensor.js';
import type { NpuMemoryApi } from '../../runtime-sim/npu/api.js';
import { dramRows, type DramTensor } from '../../backends/npu/lower/types.js';
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

/** What the host reads and writes tensors with: the NPU's DRAM or the expander's memory (both store f16 and i32). */
export type HostMemory = Pick<NpuMemoryApi, 'writeF16' | 'readF16' | 'writeI32' | 'readI32'>;

/** Largest finite FP16 value. */
const F16_MAX = 65504;

/**
 * Host write of a tensor into its DRAM home: integers as i32; floats to f16
 * with saturation, so a finite value beyond the FP16 range (exporters write
 * masks as (1 - m) x -FLT_MAX) becomes +-65504, not an infinity that would
 * turn 0 x fill into NaN. Infinities and NaN stay what they are.
 */
export function writeDram(mem: HostMemory, d: DramTensor, t: Tensor): void {
  const n = t.data.length;
  if (n === 0) return d.dtype === 'f16' ? mem.writeF16(d.addr, new Float32Array(0)) : mem.writeI32(d.addr, new Float64Array(0));
  if (!d.strides) return writeRange(mem, d.dtype, d.addr, t.data, 0, n);
  // a strided home (a KV cache inside its append's output): a row of the last dim at a time
  dramRows(d, (from, addr, len) => writeRange(mem, d.dtype, addr, t.data, from, len));
}

/** data[from .. from + n) to `addr`, converted as writeDram says. */
function writeRange(mem: HostMemory, dtype: DramTensor['dtype'], addr: number, data: Tensor['data'], from: number, n: number): void {
  // typed copies in plain loops, a chunk at a time through one buffer: weights
  // of whole models pass through here, and fresh memory is slow to touch
  const chunk = Math.min(n, CHUNK);
  if (dtype === 'f16') {
    const v = new Float32Array(chunk);
    const f32 = data instanceof Float32Array ? data : undefined;
    for (let at = 0; at < n; at += chunk) {
      const len = Math.min(chunk, n - at);
      // float32 data that needs no saturation goes as it is
      if (f32 && inF16Range(f32, from + at, len)) mem.writeF16(addr + at * 2, f32.subarray(from + at, from + at + len));
      else {
        for (let i = 0; i < len; i++) {
          const x = data[from + at + i]!;
          v[i] = x > F16_MAX && x !== Infinity ? F16_MAX : x < -F16_MAX && x !== -Infinity ? -F16_MAX : x;
        }
        mem.writeF16(addr + at * 2, len === chunk ? v : v.subarray(0, len));
      }
    }
  } else {
    // truncated but not wrapped: the memory's i32 store decides what happens beyond its range
    const v = new Float64Array(chunk);
    for (let at = 0; at < n; at += chunk) {
      const len = Math.min(chunk, n - at);
      for (let i = 0; i < len; i++) v[i] = Math.trunc(data[from + at + i]!);
      mem.writeI32(addr + at * 4, len === chunk ? v : v.subarray(0, len));
    }
  }
}


/** No finite value of x[at..at+len) is beyond the FP16 range (saturation would change it). */
function inF16Range(x: Float32Array, at: number, len: number): boolean {
  for (let i = at; i < at + len; i++) {
    const v = x[i]!;
    if ((v > F16_MAX && v !== Infinity) || (v < -F16_MAX && v !== -Infinity)) return false;
  }
  return true;
}

/** Elements per host write: 64 KiB pages of f16. */
const CHUNK = 1 << 15;

/** Host read of a tensor from its home (DRAM, or the expander's memory), as a tensor of `dtype` (the value's). */
export function readDram(mem: HostMemory, d: DramTensor, dtype: DType): Tensor {
  const n = sizeOf(d.shape);
  const read = (addr: number, k: number) => (d.dtype === 'f16' ? mem.readF16(addr, k) : mem.readI32(addr, k));
  if (!d.strides) return Tensor.from(dtype, d.shape, read(d.addr, n));
  const data = new Float64Array(n);
  dramRows(d, (from, addr, len) => data.set(read(addr, len), from));
  return Tensor.from(dtype, d.shape, data);
}
