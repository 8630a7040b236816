// Fusion changes the graph, never the numbers: on every model in the tests,
// the fused graph's outputs equal the unfused graph's (both through the
// reference interpreter), and the fused graph holds transformer ops.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, type BuildOptions } from '../../../examples/builders/index.js';
import type { Tensor } from '../../../ir/tensor.js';
import { loadModel } from '../../api/model.js';
import { runGraph } from '../../reference/interpreter.js';
import { readTensors } from '../../reference/test-data.js';

const models = path.resolve(__dirname, '../../../examples/models');

/** Largest |a - b| relative to the largest |b| of the tensor (scale-free). */
function relativeError(a: Tensor, b: Tensor): number {
  let err = 0;
  let scale = 1e-6;
  for (let i = 0; i < b.size; i++) {
    err = Math.max(err, Math.abs(a.data[i]! - b.data[i]!));
    scale = Math.max(scale, Math.abs(b.data[i]!));
  }
  return err / scale;
}

function compare(model: string, inputsDir: string) {
  const folded = loadModel(model, { stage: 'folded' }).graph;
  const fused = loadModel(model, { stage: 'fused' }).graph;
  const inputs = readTensors(inputsDir, folded, 'input');
  const want = runGraph(folded, inputs).outputs;
  const got = runGraph(fused, inputs).outputs;
  for (const [name, t] of want) {
    const g = got.get(name)!;
    expect(g.shape, name).toEqual(t.shape);
    expect(relativeError(g, t), name).toBeLessThan(1e-5);
  }
  return fused;
}

const bundled = fs.readdirSync(models).map((m) => [m, path.join(models, m, 'model.onnx'), path.join(models, m, 'test_data_set_0')] as const);

describe('fusion keeps the numbers', () => {
  for (const [name, model, data] of bundled) {
    it(`${name}`, () => {
      const g = compare(model, data);
      expect(g.ops.some((o) => o.domain === 'pimc' && o.type === 'Attention'), 'has fused attention').toBe(true);
    });
  }

  const built: [string, Omit<BuildOptions, 'outDir'>][] = [
    ['gpt2 prefill', { preset: 'gpt2-tiny', phase: 'prefill', testBatch: 2, testSeq: 5 }],
    ['gpt2 decode', { preset: 'gpt2-tiny', phase: 'decode', testBatch: 2, testPast: 6 }],
    ['bert prefill', { preset: 'bert-tiny', phase: 'prefill', testBatch: 2, testSeq: 7 }],
    ['llama prefill', { preset: 'llama-tiny', phase: 'prefill', testSeq: 6 }],
    ['llama decode', { preset: 'llama-tiny', phase: 'decode', testBatch: 2, testPast: 5 }],
    ['llama prefill, opset 23', { preset: 'llama-tiny', phase: 'prefill', opset: 23, testSeq: 6 }],
    ['llama decode, opset 23', { preset: 'llama-tiny', phase: 'decode', opset: 23, testBatch: 2, testPast: 5 }],
    ['llama-gqa-small decode', { preset: 'llama-gqa-small', phase: 'decode', testPast: 9 }],
  ];
  for (const [title, opts] of built) {
    it(`builder ${title}`, async () => {
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-eq-'));
      const b = await buildModel({ ...opts, outDir, testData: true, seed: 5 });
      const g = compare(b.modelPath, b.testDataDir!);
      expect(g.ops.some((o) => o.domain === 'pimc' && o.type === 'Attention'), 'has fused attention').toBe(true);
    });
  }
});
