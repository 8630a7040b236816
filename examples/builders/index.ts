// Model builders: GPT-2, BERT and LLaMA-style transformers of any size, written
// as ONNX files the way torch.onnx.export / HF exporters write them, with
// seeded weights, optional external data, and seeded test inputs.
//
//   const r = await buildModel({ preset: 'llama-tiny', phase: 'decode', outDir, testData: true });

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sizeOf } from '../../ir/tensor.js';
import { buildBert } from './bert.js';
import { buildGpt2 } from './gpt2.js';
import { buildLlama } from './llama.js';
import type { Dim } from './onnx-writer.js';
import type { FamilyGraph, GraphSpec, InputSpec, Phase, ValueSpec } from './patterns.js';
import { resolveConfig, type Family, type ModelConfig, type PresetName, type SizeOptions } from './presets.js';
import { saveModel, type ExternalDataMode } from './save-model.js';
import { writeTestData } from './test-data.js';

export { PRESETS, resolveConfig, headDim, type Family, type ModelConfig, type PresetName, type SizeOptions } from './presets.js';
export type { Phase, InputSpec, ValueSpec, InputRole } from './patterns.js';
export type { Dim } from './onnx-writer.js';
export { saveModel, encodeModel, type SaveOptions, type SavedModel, type ExternalDataMode } from './save-model.js';
export { makeTestInputs, writeTestData, type TestDataOptions, type NamedTensor } from './test-data.js';

export interface BuildOptions extends SizeOptions {
  /** Family; implied by a preset. */
  family?: Family;
  /** A preset name (presets.ts); explicit size fields override its fields. */
  preset?: PresetName | string;
  /** Default 'prefill'. BERT has only prefill. */
  phase?: Phase;
  /** A size, or a symbolic dim name. Default 'batch_size'. */
  batch?: Dim;
  /** Prefill sequence length (decode always has 1). Default 'sequence_length'. */
  seq?: Dim;
  /** Decode KV-cache length. Default 'past_sequence_length'. */
  past?: Dim;
  /** Weight seed. Default 0. */
  seed?: number;
  outDir: string;
  /** Default 'model.onnx'; external data goes to "<fileName>.data". */
  fileName?: string;
  /** Default 'auto' (external data once initializers exceed 16 MiB). */
  externalData?: ExternalDataMode;
  /** Default 1024 bytes. */
  externalDataThreshold?: number;
  /** 17 (default) or 23 (llama then uses RMSNormalization, RotaryEmbedding, Attention). */
  opset?: number;
  /** Prefill also outputs present_key_i / present_value_i. Default true for gpt2 and llama. */
  emitPresent?: boolean;
  /** BERT takes token_type_ids as an input. Default true. */
  tokenTypeIds?: boolean;
  /** Write test_data_set_0/input_N.pb beside the model. */
  testData?: boolean;
  /** Concrete sizes of symbolic dims in test data. Defaults 1, 8, 7. */
  testBatch?: number;
  testSeq?: number;
  testPast?: number;
  /** Seed of the test inputs. Default: the weight seed. */
  testSeed?: number;
  /**
   * Write external weights as holes of a sparse file (zeros): right shapes and
   * file layout for analysis and compile-time work at 7B scale, no disk
   * traffic. Not for checking numbers.
   */
  sparseWeights?: boolean;
  /** Progress of the external data file, in bytes. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface BuildResult {
  modelPath: string;
  dataPath?: string;
  testDataDir?: string;
  /** Graph input and output names, in graph order. */
  inputs: string[];
  outputs: string[];
  inputSpecs: InputSpec[];
  outputSpecs: ValueSpec[];
  config: ModelConfig;
  /** Trainable parameters (buffers and the materialized tied LM head excluded). */
  parameterCount: number;
  /** Bytes written: model file plus data file (test data excluded). */
  bytes: number;
}

export async function buildModel(opts: BuildOptions): Promise<BuildResult> {
  const spec = graphSpec(opts);
  const graph = buildGraph(spec);
  await mkdir(opts.outDir, { recursive: true });
  const modelPath = join(opts.outDir, opts.fileName ?? 'model.onnx');
  const saved = await saveModel(graph.built, modelPath, {
    externalData: opts.externalData ?? 'auto',
    externalDataThreshold: opts.externalDataThreshold ?? 1024,
    onProgress: opts.onProgress,
    sparseWeights: opts.sparseWeights,
  });
  const result: BuildResult = {
    modelPath,
    inputs: graph.inputs.map((i) => i.name),
    outputs: graph.outputs.map((o) => o.name),
    inputSpecs: graph.inputs,
    outputSpecs: graph.outputs,
    config: spec.config,
    parameterCount: graph.built.initializers.filter((e) => e.parameter).reduce((s, e) => s + sizeOf(e.source.dims), 0),
    bytes: saved.modelBytes + saved.dataBytes,
  };
  if (saved.dataPath !== undefined) result.dataPath = saved.dataPath;
  if (opts.testData) {
    result.testDataDir = await writeTestData(opts.outDir, graph.inputs, {
      vocab: spec.config.vocab,
      seed: opts.testSeed ?? spec.seed,
      batch: opts.testBatch,
      seq: opts.testSeq,
      past: opts.testPast,
      maxPositions: spec.config.maxPositions,
    });
  }
  return result;
}

/** The graph of a model without writing it (for inspection and tests). */
export function buildGraph(spec: GraphSpec): FamilyGraph {
  switch (spec.config.family) {
    case 'gpt2': return buildGpt2(spec);
    case 'bert': return buildBert(spec);
    case 'llama': return buildLlama(spec);
  }
}

/** Resolves and checks options into a GraphSpec. */
export function graphSpec(opts: Omit<BuildOptions, 'outDir'>): GraphSpec {
  const { family, preset, layers, dModel, heads, kvHeads, ffn, vocab, maxPositions, normEps, ropeTheta, typeVocab } = opts;
  const config = resolveConfig(family, preset, { layers, dModel, heads, kvHeads, ffn, vocab, maxPositions, normEps, ropeTheta, typeVocab });
  const phase = opts.phase ?? 'prefill';
  if (phase !== 'prefill' && phase !== 'decode') throw new Error(`phase must be prefill or decode, got ${String(phase)}`);
  if (config.family === 'bert' && phase === 'decode') throw new Error('bert is an encoder: only phase "prefill" exists');
  const opset = opts.opset ?? 17;
  if (!Number.isInteger(opset) || opset < 17 || opset > 23) throw new Error(`opset must be between 17 and 23, got ${opset}`);
  const batch = checkDim('batch', opts.batch ?? 'batch_size');
  const seq = checkDim('seq', opts.seq ?? 'sequence_length');
  const past = checkDim('past', opts.past ?? 'past_sequence_length', true);
  // Position embeddings (gpt2, bert) and RoPE tables (llama) have maxPositions rows.
  const longest = phase === 'decode' ? (typeof past === 'number' ? past + 1 : undefined) : typeof seq === 'number' ? seq : undefined;
  if (longest !== undefined && longest > config.maxPositions) {
    throw new Error(`${longest} positions do not fit the model's ${config.maxPositions} positions (maxPositions)`);
  }
  return {
    config,
    phase,
    batch,
    seq,
    past,
    seed: opts.seed ?? 0,
    opset,
    emitPresent: opts.emitPresent ?? config.family !== 'bert',
    tokenTypeIds: opts.tokenTypeIds ?? true,
  };
}

function checkDim(what: string, d: Dim, zeroOk = false): Dim {
  if (typeof d === 'string') {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(d)) throw new Error(`${what}: a symbolic dim must be an identifier, got "${d}"`);
    return d;
  }
  if (!Number.isSafeInteger(d) || d < (zeroOk ? 0 : 1)) throw new Error(`${what} must be a positive integer or a dim name, got ${d}`);
  return d;
}
