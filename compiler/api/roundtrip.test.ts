// The textual IR round trip, print(parse(print(g))) === print(g), on every
// model the tests use, as imported and after folding.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../ir/parser.js';
import { printGraph } from '../../ir/printer.js';
import { findCases } from '../conformance/conformance.js';
import { loadModel } from './model.js';

const root = path.resolve(__dirname, '../..');
const shared = ['bert_encoder', 'gpt2_decode', 'gpt2_prefill'].map((m) => path.join(root, 'examples/models', m, 'model.onnx'));
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
  for (const f of shared) {
    const name = path.basename(path.dirname(f));
    it(`${name} as imported`, () => roundTrip(f, 'ir'));
    it(`${name} folded`, () => roundTrip(f, 'folded'));
  }
  it(`all ${nodeTests.length} node-test models, as imported and folded`, () => {
    for (const f of nodeTests) {
      roundTrip(f, 'ir');
      roundTrip(f, 'folded');
    }
  });
});
