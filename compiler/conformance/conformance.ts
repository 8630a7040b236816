// Runs ONNX backend node-test folders (model.onnx + test_data_set_N/) through
// the importer and the reference interpreter, and compares with the expected
// outputs using the ONNX harness's tolerance.
//
// Exclusions are data: an `exclusions.json` beside the cases (or given
// explicitly) maps a case name to its one-line reason. Excluded cases are
// reported as skipped, never silently dropped.

import fs from 'node:fs';
import path from 'node:path';
import { fail, isPimcError, q } from '../../ir/diagnostics.js';
import { importOnnxFile } from '../frontend/onnx-import.js';
import { runGraph } from '../reference/interpreter.js';
import { compareTensor, ONNX_TEST_TOLERANCE, readTensors } from '../reference/test-data.js';

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  name: string;
  dir: string;
  status: CaseStatus;
  /** Why it failed or was skipped. */
  reason?: string;
  /** Op types the case uses. */
  ops: string[];
}

export interface ConformanceReport {
  results: CaseResult[];
  passed: number;
  failed: number;
  skipped: number;
}

export type Exclusions = Map<string, string>;

/** Every folder under the given ones that holds a model.onnx, sorted by name. */
export function findCases(dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return fail('PIMC0101', `folder ${q(d)} cannot be read`);
    }
    if (entries.some((e) => e.isFile() && e.name === 'model.onnx')) {
      out.push(d);
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  for (const d of dirs) walk(d);
  return out.sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
}

/** Reads an exclusions file: { "case_name": "reason", ... }. */
export function readExclusions(file: string): Exclusions {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return fail('PIMC0703', `exclusions file ${q(file)} is not readable JSON: ${(e as Error).message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) fail('PIMC0703', `exclusions file ${q(file)} must be an object of case name to reason`);
  const m: Exclusions = new Map();
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (k.startsWith('$')) continue; // "$comment" and the like
    if (typeof v !== 'string' || !v.trim()) fail('PIMC0703', `exclusion ${q(k)} in ${q(file)} needs a one-line reason`);
    m.set(k, v);
  }
  return m;
}

/** Exclusions files found in the given folders (exclusions.json at their top). */
export function exclusionsFor(dirs: readonly string[]): Exclusions {
  const m: Exclusions = new Map();
  for (const d of dirs) {
    const f = path.join(d, 'exclusions.json');
    if (fs.existsSync(f)) for (const [k, v] of readExclusions(f)) m.set(k, v);
  }
  return m;
}

export function runCase(dir: string, exclusions: Exclusions): CaseResult {
  const name = path.basename(dir);
  const base: CaseResult = { name, dir, status: 'passed', ops: [] };
  const excluded = exclusions.get(name);
  if (excluded) return { ...base, status: 'skipped', reason: excluded };
  try {
    const g = importOnnxFile(path.join(dir, 'model.onnx'));
    base.ops = [...new Set(g.ops.map((o) => o.type))].sort();
    const sets = fs.readdirSync(dir).filter((f) => /^test_data_set_\d+$/.test(f)).sort();
    if (sets.length === 0) return { ...base, status: 'failed', reason: 'no test_data_set_N folder' };
    for (const s of sets) {
      const inputs = readTensors(path.join(dir, s), g, 'input');
      const expected = readTensors(path.join(dir, s), g, 'output');
      const { outputs } = runGraph(g, inputs);
      for (const [k, want] of expected) {
        const got = outputs.get(k);
        if (!got) return { ...base, status: 'failed', reason: `${s}: output ${q(k)} missing` };
        const m = compareTensor(k, got, want, ONNX_TEST_TOLERANCE);
        if (m) return { ...base, status: 'failed', reason: `${s}: output ${q(k)}: ${m.reason}` };
      }
    }
    return base;
  } catch (e) {
    const msg = isPimcError(e) ? e.message : `internal error: ${(e as Error).message}`;
    return { ...base, status: 'failed', reason: msg };
  }
}

export function runConformance(
  dirs: readonly string[],
  opts: { exclusions?: Exclusions; onCase?: (r: CaseResult, i: number, n: number) => void } = {},
): ConformanceReport {
  const cases = findCases(dirs);
  const exclusions = opts.exclusions ?? exclusionsFor(dirs);
  const results: CaseResult[] = [];
  cases.forEach((dir, i) => {
    const r = runCase(dir, exclusions);
    results.push(r);
    opts.onCase?.(r, i, cases.length);
  });
  const count = (s: CaseStatus) => results.filter((r) => r.status === s).length;
  return { results, passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}
