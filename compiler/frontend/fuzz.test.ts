// Property: whatever bytes arrive as a model file, import (and the fold
// pipeline after a successful import) either works or fails with a coded
// PimcError — never a crash, never an uncoded error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPimcError } from '../../ir/diagnostics.js';
import { printGraph } from '../../ir/printer.js';
import { runPasses } from '../passes/manager.js';
import { pipeline } from '../passes/pipelines.js';
import { importOnnxBytes } from './onnx-import.js';

const root = path.resolve(__dirname, '../..');
const seeds = [
  'tests/onnx-node/test_gemm_all_attributes/model.onnx',
  'tests/onnx-node/test_mvn_expanded/model.onnx',
  'tests/onnx-node/test_slice_neg_steps/model.onnx',
  'tests/onnx-node/test_clip_default_int8_min/model.onnx',
  'tests/onnx-node/test_softmax_axis_1_expanded/model.onnx',
].map((f) => new Uint8Array(fs.readFileSync(path.join(root, f))));

const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-fuzz-'));

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; count: number };

// Byte flips dominate so that many mutants still decode and reach the later
// stages (typing, canonicalization, folding); the rest break the framing.
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 32 }) }),
);

function apply(bytes: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = Array.from(bytes);
  for (const m of ms) {
    const at = b.length ? m.at % b.length : 0;
    if (m.kind === 'flip') b[at] = m.value;
    else if (m.kind === 'insert') b.splice(at, 0, ...m.bytes);
    else if (m.kind === 'delete') b.splice(at, m.count);
    else if (m.kind === 'truncate') b = b.slice(0, at);
    else b.splice(at, 0, ...b.slice(at, at + m.count));
  }
  return Uint8Array.from(b);
}

describe('mutated model files', () => {
  it('never crash the importer or the fold pipeline', () => {
    let imported = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (s, ms) => {
        const bytes = apply(seeds[s]!, ms);
        try {
          const g = importOnnxBytes(bytes, { baseDir, fileName: 'fuzz.onnx' });
          runPasses(g, pipeline('fold'));
          printGraph(g);
          imported++;
        } catch (e) {
          if (!isPimcError(e)) throw e;
          expect(e.message).toMatch(/^PIMC\d{4}: [^\n]+$/);
        }
      }),
      { numRuns: 4000, seed: 20261123 },
    );
    // the mutations must not all be rejected at decode: many mutants import
    expect(imported).toBeGreaterThan(150);
  });
});
