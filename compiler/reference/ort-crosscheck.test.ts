// The reference interpreter against onnxruntime (a dev-only peer) on builder
// models of every family: prefill and decode, symbolic dims, opsets 17 and 23.
// Outputs must agree within 1e-4 after pimc's import and fold pipeline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, type BuildOptions } from '../../examples/builders/index.js';
import { Tensor } from '../../ir/tensor.js';
import { loadModel } from '../api/model.js';
import { runGraph } from './interpreter.js';
import { maxAbsError, readTensors } from './test-data.js';

type Ort = typeof import('onnxruntime-node');
let ort: Ort | undefined;
let why = '';
try {
  ort = await import('onnxruntime-node');
} catch (e) {
  why = `onnxruntime-node is not loadable here (${(e as Error).message.split('\n')[0]})`;
}

async function ortRun(model: string, inputs: Map<string, Tensor>): Promise<Map<string, Float32Array>> {
  const s = await ort!.InferenceSession.create(model);
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const [name, t] of inputs) {
    feeds[name] = t.dtype === 'i64'
      ? new ort!.Tensor('int64', BigInt64Array.from(t.toArray(), (v) => BigInt(v)), [...t.shape])
      : new ort!.Tensor('float32', Float32Array.from(t.data as Float32Array), [...t.shape]);
  }
  const r = await s.run(feeds);
  return new Map(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
}

const cases: [string, Omit<BuildOptions, 'outDir'>][] = [
  ['gpt2 prefill, symbolic batch and seq', { preset: 'gpt2-tiny', phase: 'prefill', testBatch: 2, testSeq: 5 }],
  ['gpt2 decode, symbolic past', { preset: 'gpt2-tiny', phase: 'decode', testBatch: 2, testPast: 6 }],
  ['bert prefill, symbolic batch and seq', { preset: 'bert-tiny', phase: 'prefill', testBatch: 2, testSeq: 7 }],
  ['llama prefill (GQA), opset 17', { preset: 'llama-tiny', phase: 'prefill', testSeq: 6 }],
  ['llama decode (GQA), opset 17', { preset: 'llama-tiny', phase: 'decode', testBatch: 2, testPast: 5 }],
  ['llama prefill, opset 23 (RMSNormalization, RotaryEmbedding, Attention)', { preset: 'llama-tiny', phase: 'prefill', opset: 23, testSeq: 6 }],
  ['llama decode, opset 23', { preset: 'llama-tiny', phase: 'decode', opset: 23, testBatch: 2, testPast: 5 }],
  ['gpt2 decode, static shapes', { preset: 'gpt2-tiny', phase: 'decode', batch: 1, past: 9 }],
];

describe.skipIf(!ort)(`interpreter vs onnxruntime on builder models${ort ? '' : ` (skipped: ${why})`}`, () => {
  for (const [title, opts] of cases) {
    it(title, async () => {
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-xc-'));
      const built = await buildModel({ ...opts, outDir, testData: true, seed: 3 });
      const { graph } = loadModel(built.modelPath);
      const inputs = readTensors(built.testDataDir!, graph, 'input');
      const ours = runGraph(graph, inputs).outputs;
      const theirs = await ortRun(built.modelPath, inputs);
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const [name, t] of ours) {
        const ref = theirs.get(name)!;
        expect(t.size).toBe(ref.length);
        const err = maxAbsError(t, new Tensor(t.dtype, t.shape, Float32Array.from(ref)));
        expect(Number.isFinite(err), name).toBe(true);
        expect(err, name).toBeLessThanOrEqual(1e-4);
      }
    });
  }
});
