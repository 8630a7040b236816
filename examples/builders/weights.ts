// Tensor data sources: the bytes of an initializer, produced chunk by chunk
// when the model is written, so several GB of weights never sit in memory.
// Every source is replayable: each chunks() call starts over and yields the
// same bytes (weights come from a seeded stream keyed by the parameter name).

import { endianness } from 'node:os';
import { bytesPerElement, type DType } from '../../ir/dtype.js';
import { tensorToRaw } from '../../ir/raw.js';
import { Tensor, sizeOf } from '../../ir/tensor.js';
import { Rng } from './rng.js';

export interface TensorSource {
  readonly dtype: DType;
  readonly dims: readonly number[];
  /** Raw little-endian bytes of the tensor, in order, in one or more chunks. */
  chunks(): Iterable<Uint8Array>;
}

/** Elements per generated chunk (4 MiB of float32). */
export const CHUNK_ELEMENTS = 1 << 20;

const LITTLE_ENDIAN = endianness() === 'LE';

export function byteLength(s: TensorSource): number {
  return sizeOf(s.dims) * bytesPerElement(s.dtype);
}

/** Float32 values as little-endian bytes (a view when the platform is little-endian). */
export function f32Bytes(a: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(4 * i, a[i]!, true);
  return out;
}

/** All bytes of a source in one buffer (for inline initializers and tests). */
export function collect(s: TensorSource): Uint8Array {
  const out = new Uint8Array(byteLength(s));
  let at = 0;
  for (const c of s.chunks()) {
    out.set(c, at);
    at += c.length;
  }
  if (at !== out.length) throw new Error(`internal: source produced ${at} bytes, expected ${out.length}`);
  return out;
}

/** A source holding an existing tensor. */
export function tensorSource(t: Tensor): TensorSource {
  return { dtype: t.dtype, dims: t.shape, chunks: () => [tensorToRaw(t)] };
}

/** mean + std * N(0, 1), from the stream (seed, key). */
export function normalSource(dims: readonly number[], seed: number, key: string, mean = 0, std = 0.02): TensorSource {
  const n = sizeOf(dims);
  return {
    dtype: 'f32',
    dims,
    *chunks() {
      const rng = new Rng(seed, key);
      for (let start = 0; start < n; start += CHUNK_ELEMENTS) {
        const chunk = new Float32Array(Math.min(CHUNK_ELEMENTS, n - start));
        yield f32Bytes(rng.fillNormal(chunk, mean, std));
      }
    },
  };
}

/**
 * The transpose [cols, rows] of a 2-D float source [rows, cols]: the tied LM
 * head that exporters materialize from the embedding. Holds the one source
 * tensor in memory while its transpose is produced.
 */
export function transposedSource(src: TensorSource): TensorSource {
  if (src.dims.length !== 2 || src.dtype !== 'f32') throw new Error('internal: transposedSource needs a 2-D float tensor');
  const [rows, cols] = src.dims as [number, number];
  return {
    dtype: 'f32',
    dims: [cols, rows],
    *chunks() {
      const bytes = collect(src);
      const a = new Float32Array(bytes.buffer, bytes.byteOffset, rows * cols);
      const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / rows));
      for (let c0 = 0; c0 < cols; c0 += rowsPerChunk) {
        const c1 = Math.min(cols, c0 + rowsPerChunk);
        const out = new Float32Array((c1 - c0) * rows);
        for (let c = c0; c < c1; c++) {
          const base = (c - c0) * rows;
          for (let r = 0; r < rows; r++) out[base + r] = a[r * cols + c]!;
        }
        yield f32Bytes(out);
      }
    },
  };
}

/** A float32 tensor whose element i is f(i), produced in chunks. */
export function computedF32(dims: readonly number[], f: (i: number) => number): TensorSource {
  const n = sizeOf(dims);
  return {
    dtype: 'f32',
    dims,
    *chunks() {
      for (let start = 0; start < n; start += CHUNK_ELEMENTS) {
        const chunk = new Float32Array(Math.min(CHUNK_ELEMENTS, n - start));
        for (let i = 0; i < chunk.length; i++) chunk[i] = f(start + i);
        yield f32Bytes(chunk);
      }
    },
  };
}

/** A bool tensor whose element i is f(i), produced in chunks. */
export function computedBool(dims: readonly number[], f: (i: number) => boolean): TensorSource {
  const n = sizeOf(dims);
  return {
    dtype: 'bool',
    dims,
    *chunks() {
      for (let start = 0; start < n; start += CHUNK_ELEMENTS) {
        const chunk = new Uint8Array(Math.min(CHUNK_ELEMENTS, n - start));
        for (let i = 0; i < chunk.length; i++) chunk[i] = f(start + i) ? 1 : 0;
        yield chunk;
      }
    },
  };
}

/** An int64 tensor of zeros (registered index buffers such as token_type_ids). */
export function zerosI64(dims: readonly number[]): TensorSource {
  return { dtype: 'i64', dims, chunks: () => [new Uint8Array(sizeOf(dims) * 8)] };
}

/** Initial values in the style of GPT-2 / BERT / LLaMA init (std 0.02), by role. */
export const init = {
  /** Linear / Conv1D weights and embeddings. */
  weight: (dims: readonly number[], seed: number, key: string, std = 0.02) => normalSource(dims, seed, key, 0, std),
  /** Biases: small. */
  bias: (dims: readonly number[], seed: number, key: string) => normalSource(dims, seed, key, 0, 0.01),
  /** LayerNorm / RMSNorm scales: near 1. */
  normWeight: (dims: readonly number[], seed: number, key: string) => normalSource(dims, seed, key, 1, 0.02),
  /** LayerNorm shifts: small. */
  normBias: (dims: readonly number[], seed: number, key: string) => normalSource(dims, seed, key, 0, 0.01),
};
