// The software pipeline every misc lowering emits: a job is a list of steps
// (load tiles, compute on them, store results); the steps are split into
// contiguous ranges over the engines, and each engine runs its range
// double-buffered, so the DMA of step i+1 runs while the vector unit works on
// step i and the store of step i drains behind step i+1.
//
// Per engine (its parts of every job of the program, one pipeline when the
// jobs' regions fit the scratchpad side by side, else job after job):
//   1. prologue loads (operands every step reads: a broadcast bias, a
//      norm's gamma) and the loads of the first step into set 0, together;
//      wait for the prologue, prologue compute
//   2. for each step k (set s = k mod 2, t = 1 - s; step k+1 may belong to
//      the next job):
//        [alias jobs: wait for the stores of set t]  loads of step k+1 into set t
//        wait for the loads of set s
//        [other jobs: wait for the stores of set s (step k-2)]  compute
//        stores from set s
//   3. wait for every store
// Alias jobs (pure movement) store straight from the buffer they loaded, so a
// set may only be reloaded once its stores have drained; compute jobs store
// from separate output buffers and wait only before overwriting those.

import { fail } from '../../../../ir/diagnostics.js';
import type { Instr, NpuProgram } from '../../instr.js';
import type { NpuDesc } from '../../../../runtime-sim/hardware/types.js';
import { alignUp, SPAD_ALIGN } from '../common/alloc.js';

/** Scratchpad addresses of a job's regions. */
export interface Mem {
  /** Double-buffered region r in set s. */
  set(r: number, s: 0 | 1): number;
  /** Single region r (temporaries, operands loaded once). */
  single(r: number): number;
}

/** One step; DMA tags are assigned by the pipeline (whatever the step put there is replaced). */
export interface Step {
  loads: Instr[];
  compute: Instr[];
  stores: Instr[];
}

export interface Job {
  name: string;
  /** Bytes of each double-buffered region (one copy per set). */
  setBytes: readonly number[];
  /** Bytes of each single region. */
  singleBytes: readonly number[];
  steps: number;
  /** Steps come in runs of this many that must share an engine (a reduction accumulating one tile); default 1. */
  group?: number;
  /** Stores read the regions loads write (see the header). */
  alias: boolean;
  /** Once per engine, before its steps [first, end): loads, then compute after they land. */
  prologue?(mem: Mem, first: number, end: number): { loads: Instr[]; compute: Instr[] };
  step(i: number, mem: Mem, set: 0 | 1): Step;
}

const TAG_PRO = 0;
const tagLoad = (s: 0 | 1) => 1 + s;
const tagStore = (s: 0 | 1) => 3 + s;

const align = (n: number) => alignUp(n, SPAD_ALIGN);

/** Scratchpad bytes a job needs (regions 64-byte aligned). */
function jobBytes(setBytes: readonly number[], singleBytes: readonly number[]): number {
  return 2 * setBytes.reduce((a, b) => a + align(b), 0) + singleBytes.reduce((a, b) => a + align(b), 0);
}

function layout(job: Job, npu: NpuDesc, opName: string): Mem {
  const need = jobBytes(job.setBytes, job.singleBytes);
  if (need > npu.scratchpadBytes) {
    fail('PIMC1101', `op ${opName} (${job.name}): tiles need ${need} bytes of scratchpad, an engine has ${npu.scratchpadBytes}`);
  }
  const sets: [number[], number[]] = [[], []];
  const singles: number[] = [];
  let at = 0;
  for (const s of [0, 1] as const) {
    for (const b of job.setBytes) {
      sets[s].push(at);
      at += align(b);
    }
  }
  for (const b of job.singleBytes) {
    singles.push(at);
    at += align(b);
  }
  return { set: (r, s) => sets[s][r]!, single: (r) => singles[r]! };
}

function retag(list: readonly Instr[], tag: number): Instr[] {
  return list.map((i) => ('tag' in i ? { ...i, tag } : i));
}

/** Steps [first, end) of one job, as one engine runs them. */
interface Part {
  job: Job;
  mem: Mem;
  first: number;
  end: number;
}

/**
 * The instructions of one engine running its parts of one or more jobs as
 * ONE software pipeline: the loads of the next step are issued before the
 * compute of this one even when the next step belongs to the next job, so a
 * job's first tile is not waited for after the previous job has drained
 * (KvAppend, Concat, Split: a tail of the big part and the small part on one
 * engine cost one DMA latency each way, not two). The parts' regions are
 * disjoint (see buildProgram), so a wait only orders steps of one job; the
 * waits by tag parity are conservative across jobs.
 */
function runParts(parts: readonly Part[]): Instr[] {
  const out: Instr[] = [];
  const pro = parts.map((p) => (p.job.prologue ? p.job.prologue(p.mem, p.first, p.end) : { loads: [], compute: [] }));
  const proLoads = pro.flatMap((p) => p.loads);
  const steps: { job: Job; st: Step }[] = [];
  for (const p of parts) {
    for (let i = p.first; i < p.end; i++) steps.push({ job: p.job, st: p.job.step(i, p.mem, (steps.length % 2) as 0 | 1) });
  }
  // The prologue's loads and the first step's are in flight together: one
  // DMA latency before the first compute, not two.
  out.push(...retag(proLoads, TAG_PRO));
  if (steps.length) out.push(...retag(steps[0]!.st.loads, tagLoad(0)));
  if (proLoads.length) out.push({ op: 'wait.dma', tag: TAG_PRO });
  out.push(...pro.flatMap((p) => p.compute));
  steps.forEach(({ job, st }, k) => {
    const s = (k % 2) as 0 | 1;
    const t = (1 - s) as 0 | 1;
    const next = steps[k + 1];
    if (next) {
      if (next.job.alias) out.push({ op: 'wait.dma', tag: tagStore(t) });
      out.push(...retag(next.st.loads, tagLoad(t)));
    }
    out.push({ op: 'wait.dma', tag: tagLoad(s) });
    if (!job.alias && k >= 2) out.push({ op: 'wait.dma', tag: tagStore(s) });
    out.push(...st.compute);
    out.push(...retag(st.stores, tagStore(s)));
  });
  out.push({ op: 'wait.dma', tag: tagStore(0) }, { op: 'wait.dma', tag: tagStore(1) });
  return out;
}

/** The regions of several jobs side by side, when they fit together; else undefined. */
function layoutAll(jobs: readonly Job[], npu: NpuDesc, opName: string): Mem[] | undefined {
  const sizes = jobs.map((j) => jobBytes(j.setBytes, j.singleBytes));
  if (sizes.reduce((a, b) => a + b, 0) > npu.scratchpadBytes) return undefined;
  let base = 0;
  return jobs.map((j, k) => {
    const m = layout(j, npu, opName);
    const at = base;
    base += sizes[k]!;
    return { set: (r, s) => at + m.set(r, s), single: (r) => at + m.single(r) };
  });
}

/**
 * One program from jobs that may run in any order (none reads what another
 * writes): all their step groups, in order, split into equal contiguous
 * ranges over the engines. An engine runs its parts of all jobs as one
 * pipeline when the jobs' regions fit the scratchpad side by side, else one
 * job after another (each drained before the next reuses the scratchpad).
 */
export function buildProgram(name: string, jobs: readonly Job[], npu: NpuDesc, opName: string): NpuProgram {
  const E = npu.engines;
  const groups = jobs.map((j) => Math.ceil(j.steps / (j.group ?? 1)));
  const total = groups.reduce((a, b) => a + b, 0);
  const engines: Instr[][] = Array.from({ length: E }, () => []);
  const mems = jobs.map((j) => layout(j, npu, opName));
  const side = jobs.length > 1 ? layoutAll(jobs, npu, opName) : undefined;
  for (let e = 0; e < E; e++) {
    const lo = Math.floor((e * total) / E);
    const hi = Math.floor(((e + 1) * total) / E);
    let base = 0;
    const parts: Part[] = [];
    jobs.forEach((job, j) => {
      const g = job.group ?? 1;
      const first = Math.max(lo - base, 0) * g;
      const end = Math.min(Math.min(hi - base, groups[j]!) * g, job.steps);
      if (first < end) parts.push({ job, mem: (side ?? mems)[j]!, first, end });
      base += groups[j]!;
    });
    if (side) engines[e]!.push(...(parts.length ? runParts(parts) : []));
    else for (const p of parts) engines[e]!.push(...runParts([p]));
    if (engines[e]!.length) engines[e]!.push({ op: 'end' });
  }
  return { name, engines };
}
