// The pass manager: named passes, pipelines as arrays of names that read top
// to bottom, the verifier after each pass, --print-after and timings.

import { fail, q } from '../../ir/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import { verifyGraph } from '../../ir/verifier.js';

export interface PassResult {
  /** How many things the pass changed (ops removed, values rewritten, ...). */
  changed: number;
}

export interface Pass {
  name: string;
  /** One line: what the pass does. */
  summary: string;
  run(g: Graph): PassResult;
}

const PASSES = new Map<string, Pass>();

const VERIFY_BY_DEFAULT = !!process.env.VITEST || process.env.PIMC_VERIFY === '1';

export function registerPass(p: Pass): Pass {
  if (PASSES.has(p.name)) throw new Error(`internal: pass ${p.name} registered twice`);
  PASSES.set(p.name, p);
  return p;
}

export function lookupPass(name: string): Pass {
  const p = PASSES.get(name);
  if (!p) fail('PIMC0702', `unknown pass ${q(name)} (passes: ${[...PASSES.keys()].sort().join(', ')})`);
  return p;
}

export function allPasses(): Pass[] {
  return [...PASSES.values()];
}

export interface PipelineOptions {
  /**
   * Run the verifier after every pass. Default: on under the test runner
   * (VITEST) or with PIMC_VERIFY=1, off otherwise (it costs about a tenth of
   * the pipeline on 7B-sized graphs).
   */
  verifyEach?: boolean;
  /** Pass names after which to call onPrint, or 'all'. */
  printAfter?: readonly string[] | 'all';
  onPrint?: (passName: string, g: Graph) => void;
  /** Called after each pass, e.g. for progress. */
  onPass?: (step: PassTiming, index: number, total: number) => void;
}

export interface PassTiming {
  pass: string;
  ms: number;
  changed: number;
}

export function runPasses(g: Graph, names: readonly string[], opts: PipelineOptions = {}): PassTiming[] {
  const passes = names.map(lookupPass);
  const wanted = opts.printAfter === 'all' ? undefined : new Set(opts.printAfter ?? []);
  if (wanted) for (const n of wanted) lookupPass(n);
  const timings: PassTiming[] = [];
  passes.forEach((p, i) => {
    const t0 = performance.now();
    const r = p.run(g);
    const step = { pass: p.name, ms: performance.now() - t0, changed: r.changed };
    timings.push(step);
    if (opts.verifyEach ?? VERIFY_BY_DEFAULT) {
      try {
        verifyGraph(g, { requireTypes: true });
      } catch (e) {
        throw new Error(`internal: the IR is invalid after pass ${p.name}: ${(e as Error).message}`, { cause: e });
      }
    }
    opts.onPass?.(step, i, passes.length);
    if (opts.onPrint && (!wanted || wanted.has(p.name))) opts.onPrint(p.name, g);
  });
  return timings;
}
