// Seeded test inputs for a built model, written as test_data_set_0/input_N.pb
// (serialized TensorProto named after the graph input, N in graph-input
// order: the layout of the ONNX backend tests).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeTensorFile } from '../../compiler/frontend/tensor-proto.js';
import { Tensor } from '../../ir/tensor.js';
import type { Dim } from './onnx-writer.js';
import type { InputSpec } from './patterns.js';
import { Rng } from './rng.js';

export interface TestDataOptions {
  /** Token ids are drawn from [0, vocab). */
  vocab: number;
  seed?: number;
  /** Sizes for symbolic dims: batch (default 1), prefill seq (8), decode past (7). */
  batch?: number;
  seq?: number;
  past?: number;
  /** When given, positions (prefill seq, decode past + 1) must fit. */
  maxPositions?: number;
}

export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

/** Concrete sizes: [batch, seq, past], from numeric dims or the options. */
export function concreteSizes(inputs: readonly InputSpec[], opts: TestDataOptions): { batch: number; seq: number; past: number } {
  const pick = (d: Dim | undefined, fallback: number) => (typeof d === 'number' ? d : fallback);
  const ids = inputs.find((i) => i.role === 'input_ids');
  if (!ids) throw new Error('internal: the model has no input_ids input');
  const pastKey = inputs.find((i) => i.role === 'past_key');
  const batch = pick(ids.dims[0], opts.batch ?? 1);
  const seq = pick(ids.dims[1], opts.seq ?? 8);
  const past = pastKey ? pick(pastKey.dims[2], opts.past ?? 7) : 0;
  if (opts.maxPositions !== undefined && past + seq > opts.maxPositions) {
    throw new Error(`test inputs need ${past + seq} positions, more than the model's ${opts.maxPositions}`);
  }
  return { batch, seq, past };
}

/**
 * Inputs in graph order: token ids uniform in [0, vocab); position_ids
 * past..past+seq-1; attention_mask ones, except that batch row b > 0 has its
 * last min(b, seq - 1) tokens padded; token_type_ids zeros; past key/value ~ N(0, 1).
 */
export function makeTestInputs(inputs: readonly InputSpec[], opts: TestDataOptions): NamedTensor[] {
  const { batch, seq, past } = concreteSizes(inputs, opts);
  const seed = opts.seed ?? 0;
  return inputs.map((spec) => {
    const rng = new Rng(seed, `test:${spec.name}`);
    const shape = spec.dims.map((d, i) => {
      if (typeof d === 'number') return d;
      if (i === 0) return batch;
      return spec.role === 'past_key' || spec.role === 'past_value' ? past : seq;
    });
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const col = i % seq;
      const row = Math.floor(i / seq);
      switch (spec.role) {
        case 'input_ids': values[i] = rng.int(opts.vocab); break;
        case 'position_ids': values[i] = past + col; break;
        case 'attention_mask': values[i] = col >= seq - Math.min(row, seq - 1) ? 0 : 1; break;
        case 'token_type_ids': values[i] = 0; break;
        case 'past_key': case 'past_value': values[i] = rng.normal(); break;
      }
    }
    return { name: spec.name, tensor: Tensor.from(spec.dtype, shape, values) };
  });
}

/** Writes <dir>/test_data_set_0/input_N.pb; returns that folder. */
export async function writeTestData(dir: string, inputs: readonly InputSpec[], opts: TestDataOptions): Promise<string> {
  const out = join(dir, 'test_data_set_0');
  await mkdir(out, { recursive: true });
  const tensors = makeTestInputs(inputs, opts);
  for (let i = 0; i < tensors.length; i++) {
    await writeFile(join(out, `input_${i}.pb`), encodeTensorFile(tensors[i]!.name, tensors[i]!.tensor));
  }
  return out;
}
