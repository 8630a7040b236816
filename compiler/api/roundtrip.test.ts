// The textual IR round trip, print(parse(print(g))) === print(g), on every
// model the tests use, as imported and after folding.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, type BuildOptions } from '../../examples/builders/index.js';
import { parseGraph } from '../../ir/parser.js';
import { printGraph } from '../../ir/printer.js';
import { findCases } from '../conformance/conformance.js';
import { loadModel } from './model.js';

const root = path.resolve(__dirname, '../..');
const bundled = fs.readdirSync(path.join(root, 'examples/models')).map((m) => path.join(root, 'examples/models', m, 'model.onnx'));
const excluded = new Set(['test_cast_FLOAT_to_STRING', 'test_cast_STRING_to_FLOAT', 'test_castlike_FLOAT_to_STRING', 'test_castlike_STRING_to_FLOAT',
  'test_castlike_FLOAT_to_STRING_expanded', 'test_castlike_STRING_to_FLOAT_expanded', 'test_identity_sequence', 'test_identity_opt']);
const nodeTests = findCases([path.join(root, 'tests/onnx-node')])
  .filter((d) => !excluded.has(path.basename(d)))
  .map((d) => path.join(d, 'model.onnx'));

function roundTrip(file: string, stage: 'ir' | 'folded') {
  const { graph } = loadModel(file, { stage });
  const text = printGraph(graph);
  const again = printGraph(parseGraph(text, { baseDir: path.dirname(file) }));
  expect(again).toBe(text);
}

describe('textual IR round trip', () => {
  for (const f of bundled) {
    const name = path.basename(path.dirname(f));
    it(`${name} as imported`, () => roundTrip(f, 'ir'));
    it(`${name} folded`, () => roundTrip(f, 'folded'));
  }
  const built: [string, Omit<BuildOptions, 'outDir'>][] = [
    ['gpt2 prefill', { preset: 'gpt2-tiny', phase: 'prefill' }],
    ['gpt2 decode', { preset: 'gpt2-tiny', phase: 'decode' }],
    ['bert prefill', { preset: 'bert-tiny', phase: 'prefill' }],
    ['llama prefill', { preset: 'llama-tiny', phase: 'prefill' }],
    ['llama decode', { preset: 'llama-tiny', phase: 'decode' }],
    ['llama decode opset 23', { preset: 'llama-tiny', phase: 'decode', opset: 23 }],
    ['llama-gqa-small decode, static', { preset: 'llama-gqa-small', phase: 'decode', batch: 4, past: 128 }],
  ];
  for (const [title, opts] of built) {
    it(`builder model: ${title}`, async () => {
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-rt-'));
      const { modelPath } = await buildModel({ ...opts, outDir });
      roundTrip(modelPath, 'ir');
      roundTrip(modelPath, 'folded');
    });
  }

  it(`all ${nodeTests.length} node-test models, as imported and folded`, () => {
    for (const f of nodeTests) {
      roundTrip(f, 'ir');
      roundTrip(f, 'folded');
    }
  });
});
