// The ONNX backend node tests for the supported op families, one test per case.
// Excluded cases (tests/onnx-node/exclusions.json) are skipped with their reason.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exclusionsFor, findCases, runCase } from './conformance.js';

const root = path.resolve(__dirname, '../../tests/onnx-node');
const exclusions = exclusionsFor([root]);
const cases = findCases([root]);

describe('ONNX backend node tests', () => {
  it('has the copied cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
  });

  it('excludes at most 3% of the cases, each with a reason', () => {
    expect(exclusions.size / cases.length).toBeLessThanOrEqual(0.03);
    for (const [name, reason] of exclusions) {
      expect(cases.map((c) => path.basename(c))).toContain(name);
      expect(reason.length).toBeGreaterThan(10);
    }
  });

  for (const dir of cases) {
    const name = path.basename(dir);
    const reason = exclusions.get(name);
    if (reason) {
      it.skip(`${name} (excluded: ${reason})`, () => {});
      continue;
    }
    it(name, () => {
      const r = runCase(dir, exclusions);
      expect(r.reason ?? '').toBe('');
      expect(r.status).toBe('passed');
    });
  }
});
