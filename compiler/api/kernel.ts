// `pimc kernel`: one HBM-PIM kernel end to end, host side included (HARDWARE.md
// section 5): seeded FP16 inputs, the backend's layout and command streams,
// the simulator on every pseudo-channel, the host's read-back and reduction,
// and the check against plain FP16 loops (bit for bit) and the exact result
// (within the FP16 bound).

import { fail } from '../../ir/diagnostics.js';
import { pimGeometry, type PimGeometry } from '../../backends/hbm-pim/geometry.js';
import { gemvStream, layoutGemvWeights, planGemv, reduceGemv } from '../../backends/hbm-pim/gemv.js';
import { collectResult, elementwiseStream, layoutOperand, planElementwise } from '../../backends/hbm-pim/elementwise.js';
import { elementwiseFp16Loop, gemvBound, gemvExact, gemvFp16Loop } from '../../backends/hbm-pim/fp16-reference.js';
import type { ElementwiseOp } from '../../backends/hbm-pim/programs.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';
import { F16_VALUE, f16, f16BitsOf } from '../../runtime-sim/hbm/fp16.js';
import { newStores, runSystem } from '../../runtime-sim/hbm/pim-system.js';
import { hostAccess } from '../../runtime-sim/hbm/host-controller.js';
import { baselineRequests } from '../../runtime-sim/hbm/host-kernels.js';
import { commandCount } from '../../runtime-sim/hbm/stream.js';
import type { ChannelStats, TraceEvent } from '../../runtime-sim/hbm/channel-api.js';
import type { AttentionShape } from '../../backends/hbm-pim/attention.js';
import { attentionKernel } from './kernel-attention.js';

export const KERNEL_SCHEMA = 'pimc.kernel/1';

export type KernelSpec =
  | { kind: 'gemv'; m: number; n: number; vectors?: number }
  | { kind: ElementwiseOp; size: number }
  | ({ kind: 'attention' } & AttentionShape);

export interface KernelOptions {
  hw: string | Hardware;
  /** Run in the banks (default) or have the host read everything (the baseline). */
  pim?: boolean;
  seed?: number;
  /** Host lane reduction of GEMV (default: the hardware description's). */
  hostReduction?: 'fp16' | 'fp32';
  refresh?: boolean;
  /** Trace these pseudo-channels' commands. */
  trace?: { pchs: readonly number[]; sink: (e: TraceEvent) => void };
  /**
   * Also compare bit for bit with a plain FP16 loop doing the same operations
   * in the same order (as long as the kernel itself; the bound check always runs).
   */
  bitExact?: boolean;
}

export interface KernelReport {
  schema: typeof KERNEL_SCHEMA;
  kernel: string;
  hardware: string;
  pim: boolean;
  cycles: number;
  seconds: number;
  commands: Record<string, number>;
  /** Commands the simulator executed (all pseudo-channels). */
  simulatedCommands: number;
  pimTriggers: number;
  /** Share of PCU-cycles spent on triggered instructions. */
  pimUtilization: number;
  /** Column commands after the first since their row's ACT (hits) and first ones (misses), summed over pseudo-channels. */
  rowHits: number;
  rowMisses: number;
  /** Cycles spent in each mode, summed over pseudo-channels. */
  modeCycles: Record<string, number>;
  check: {
    /** Equal bit for bit to the plain FP16 loop doing the same operations in the same order (null: not checked). */
    bitExact: boolean | null;
    mismatches: number;
    /** Largest |result - exact| and the FP16 bound it must stay under. */
    maxAbsError: number;
    bound: string;
    withinBound: boolean;
  };
  wallMs: number;
  /** attention: cycles of each device phase (KV append, scores, context). */
  phases?: Record<string, number>;
}

/** FP16 bits of k/1024 - 1 for k = 0..2047: a uniform grid on [-1, 1), every point exact in FP16. */
const GRID = Uint16Array.from({ length: 2048 }, (_, k) => f16BitsOf(k / 1024 - 1));

/**
 * Seeded FP16 inputs, uniform on that grid (xorshift32: fast, and plenty for
 * test data): value i comes from the generator's state after i + 1 steps.
 *
 * One xorshift step waits for the previous one, so a single generator runs
 * at the latency of its six dependent operations. The step is linear over
 * GF(2), so the state `chunk` steps ahead is a 32x32 bit matrix away: four
 * generators start a quarter of the sequence apart and run interleaved,
 * producing exactly the values of the single one.
 */
function fp16Values(n: number, seed: number): Uint16Array {
  const out = new Uint16Array(n);
  const chunk = Math.ceil(n / 4);
  const jump = xorshiftPower(chunk);
  let s0 = ((seed >>> 0) || 1) | 0;
  let s1 = applyBits(jump, s0);
  let s2 = applyBits(jump, s1);
  let s3 = applyBits(jump, s2);
  const full = n - 3 * chunk; // the last generator's share (the others' is `chunk`)
  const grid = GRID; // a local: a module binding would be checked for initialisation on every read
  for (let i = 0; i < full; i++) {
    s0 ^= s0 << 13; s0 ^= s0 >>> 17; s0 ^= s0 << 5;
    s1 ^= s1 << 13; s1 ^= s1 >>> 17; s1 ^= s1 << 5;
    s2 ^= s2 << 13; s2 ^= s2 >>> 17; s2 ^= s2 << 5;
    s3 ^= s3 << 13; s3 ^= s3 >>> 17; s3 ^= s3 << 5;
    out[i] = grid[(s0 >>> 21) & 2047]!;
    out[chunk + i] = grid[(s1 >>> 21) & 2047]!;
    out[2 * chunk + i] = grid[(s2 >>> 21) & 2047]!;
    out[3 * chunk + i] = grid[(s3 >>> 21) & 2047]!;
  }
  for (let i = Math.max(full, 0); i < chunk; i++) {
    s0 ^= s0 << 13; s0 ^= s0 >>> 17; s0 ^= s0 << 5;
    s1 ^= s1 << 13; s1 ^= s1 >>> 17; s1 ^= s1 << 5;
    s2 ^= s2 << 13; s2 ^= s2 >>> 17; s2 ^= s2 << 5;
    out[i] = grid[(s0 >>> 21) & 2047]!;
    if (chunk + i < n) out[chunk + i] = grid[(s1 >>> 21) & 2047]!;
    if (2 * chunk + i < n) out[2 * chunk + i] = grid[(s2 >>> 21) & 2047]!;
  }
  return out;
}

/** A linear map on 32-bit words as the images of its 32 unit vectors. */
type BitMatrix = Int32Array;

const applyBits = (m: BitMatrix, v: number): number => {
  let r = 0;
  for (let j = 0; j < 32; j++) if ((v >>> j) & 1) r ^= m[j]!;
  return r;
};

const composeBits = (a: BitMatrix, b: BitMatrix): BitMatrix => b.map((col) => applyBits(a, col));

/** The xorshift32 step taken k times, as a bit matrix (square and multiply). */
function xorshiftPower(k: number): BitMatrix {
  let step: BitMatrix = new Int32Array(32).map((_, j) => {
    let s = 1 << j;
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return s;
  });
  let r: BitMatrix = new Int32Array(32).map((_, j) => 1 << j);
  for (; k > 0; k = Math.floor(k / 2)) {
    if (k % 2) r = composeBits(step, r);
    step = composeBits(step, step);
  }
  return r;
}

export function kernelName(k: KernelSpec): string {
  if (k.kind === 'attention') return `attention ${k.hq}/${k.hkv} heads x ${k.hd}, ${k.skv} keys`;
  return k.kind === 'gemv' ? `gemv ${k.m}x${k.n}${k.vectors && k.vectors > 1 ? ` x${k.vectors}` : ''}` : `${k.kind} ${k.size}`;
}

export function runKernel(spec: KernelSpec, opts: KernelOptions): KernelReport {
  const hw = typeof opts.hw === 'string' ? loadHardware(opts.hw) : opts.hw;
  const g = pimGeometry(hw);
  const t0 = performance.now();
  const pim = opts.pim ?? true;
  const r = !pim ? hostOnly(hw, g, spec, opts)
    : spec.kind === 'gemv' ? gemv(hw, g, spec, opts)
    : spec.kind === 'attention' ? attention(hw, g, spec, opts)
    : elementwise(hw, g, spec, opts);
  return { ...r, wallMs: performance.now() - t0 };
}

/**
 * The baseline of HARDWARE.md 5: the host reads the operands and writes the
 * result through its memory controller (timed command by command); it
 * computes in float32 itself (not timed), which is checked against the bound.
 */
function hostOnly(hw: Hardware, g: PimGeometry, spec: KernelSpec, o: KernelOptions): Partial0 {
  if (spec.kind === 'gemv' && (spec.vectors ?? 1) > 1) fail('PIMC0703', '--no-pim runs one input vector; drop --batch');
  if (spec.kind === 'attention') fail('PIMC0703', 'attention has no --no-pim baseline yet; run it with PIM');
  const run = hostAccess(baselineRequests(spec.kind === 'gemv' ? { kind: 'gemv', m: spec.m, n: spec.n } : spec), { hw });
  const tck = hw.memory.hbm!.tCKns * 1e-9;
  let maxErr = 0;
  let within = true;
  if (spec.kind === 'gemv') {
    const w = fp16Values(spec.m * spec.n, (o.seed ?? 1) * 7919);
    const x = fp16Values(spec.n, (o.seed ?? 1) * 104729);
    const exact = gemvExact(w, x, spec.m, spec.n);
    const y = hostFloat32Gemv(w, x, spec.m, spec.n);
    for (let i = 0; i < spec.m; i++) {
      const err = Math.abs(y[i]! - exact.y[i]!);
      maxErr = Math.max(maxErr, err);
      if (err > ((2 * spec.n * 2 ** -24) / (1 - 2 * spec.n * 2 ** -24)) * exact.abs[i]!) within = false;
    }
  }
  const commands = Object.fromEntries(Object.entries(run.commands)) as Record<string, number>;
  const total = Object.values(commands).reduce((a, b) => a + b, 0);
  return {
    schema: KERNEL_SCHEMA,
    kernel: kernelName(spec),
    hardware: hw.name,
    pim: false,
    cycles: run.cycles,
    seconds: run.cycles * tck,
    commands,
    simulatedCommands: total,
    pimTriggers: 0,
    pimUtilization: 0,
    ...rowStats(run.perPch),
    check: {
      bitExact: null,
      mismatches: 0,
      maxAbsError: maxErr,
      bound: spec.kind === 'gemv' ? 'host float32: |y - exact| <= gamma_2n(2^-24) * sum|w x|' : 'host computes exactly what it stores (no device arithmetic)',
      withinBound: within,
    },
  };
  void g;
}

type Partial0 = Omit<KernelReport, 'wallMs'>;

/**
 * The host's float32 GEMV of the baseline: per row, acc = fround(acc +
 * fround(w x)) in input order. Four rows at a time, so that four independent
 * chains of dependent roundings run side by side (each row's operations and
 * order unchanged).
 */
function hostFloat32Gemv(w: Uint16Array, x: Uint16Array, m: number, n: number): Float64Array {
  const value = F16_VALUE; // a local: a module binding is checked for initialisation on every read
  const xv = Float64Array.from(x, (b) => value[b]!);
  const y = new Float64Array(m);
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const r0 = i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
    for (let j = 0; j < n; j++) {
      const xj = xv[j]!;
      a0 = Math.fround(a0 + Math.fround(value[w[r0 + j]!]! * xj));
      a1 = Math.fround(a1 + Math.fround(value[w[r1 + j]!]! * xj));
      a2 = Math.fround(a2 + Math.fround(value[w[r2 + j]!]! * xj));
      a3 = Math.fround(a3 + Math.fround(value[w[r3 + j]!]! * xj));
    }
    y[i] = a0; y[i + 1] = a1; y[i + 2] = a2; y[i + 3] = a3;
  }
  for (; i < m; i++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc = Math.fround(acc + Math.fround(value[w[i * n + j]!]! * xv[j]!));
    y[i] = acc;
  }
  return y;
}

function rowStats(perPch: readonly ChannelStats[]): Pick<KernelReport, 'rowHits' | 'rowMisses' | 'modeCycles'> {
  const modeCycles: Record<string, number> = {};
  for (const p of perPch) for (const [m, c] of Object.entries(p.modeCycles)) modeCycles[m] = (modeCycles[m] ?? 0) + c;
  return { rowHits: perPch.reduce((a, p) => a + p.rowHits, 0), rowMisses: perPch.reduce((a, p) => a + p.rowMisses, 0), modeCycles };
}

function report(hw: Hardware, g: PimGeometry, spec: KernelSpec, run: ReturnType<typeof runSystem>, streamCommands: number, check: KernelReport['check']): Partial0 {
  const tck = hw.memory.hbm!.tCKns * 1e-9;
  const pcuCycles = run.cycles * g.pch * g.pcus;
  return {
    schema: KERNEL_SCHEMA,
    kernel: kernelName(spec),
    hardware: hw.name,
    pim: true,
    cycles: run.cycles,
    seconds: run.cycles * tck,
    commands: run.commands,
    simulatedCommands: streamCommands * g.pch,
    pimTriggers: run.triggers,
    pimUtilization: pcuCycles ? (run.triggers * g.pcus * hw.memory.hbm!.timing.tCCD_L) / pcuCycles : 0,
    ...rowStats(run.perPch),
    check,
  };
}

function gemv(hw: Hardware, g: PimGeometry, spec: Extract<KernelSpec, { kind: 'gemv' }>, o: KernelOptions): Partial0 {
  const vectors = spec.vectors ?? 1;
  const plan = planGemv(g, spec.m, spec.n, vectors);
  const w = fp16Values(spec.m * spec.n, (o.seed ?? 1) * 7919);
  const xs = fp16Values(vectors * spec.n, (o.seed ?? 1) * 104729);
  const stores = newStores(g.pch, g.banks);
  layoutGemvWeights(g, plan, w, stores);
  const stream = gemvStream(g, plan, xs);
  const run = runSystem(stream, stores, { hw, refresh: o.refresh, trace: o.trace });
  const host = o.hostReduction ?? hw.pim!.hostReduction;
  const y = reduceGemv(g, plan, run.readbacks, host, (b) => F16_VALUE[b]!, f16);
  let mismatches = 0;
  let maxErr = 0;
  let within = true;
  for (let v = 0; v < vectors; v++) {
    const x = xs.subarray(v * spec.n, (v + 1) * spec.n);
    const want = o.bitExact ? gemvFp16Loop(w, x, spec.m, spec.n, host) : undefined;
    const exact = gemvExact(w, x, spec.m, spec.n);
    for (let i = 0; i < spec.m; i++) {
      const got = y[v * spec.m + i]!;
      if (want && !Object.is(got, want[i]!)) mismatches++;
      const err = Math.abs(got - exact.y[i]!);
      maxErr = Math.max(maxErr, err);
      if (err > gemvBound(spec.n, exact.abs[i]!)) within = false;
    }
  }
  const d = 2 * Math.ceil(spec.n / 16) + 16;
  return report(hw, g, spec, run, commandCount(stream.items), {
    bitExact: o.bitExact ? mismatches === 0 : null,
    mismatches,
    maxAbsError: maxErr,
    bound: `|y - exact| <= gamma_${d} * sum|w x| per output (u = 2^-11; ${d} rounded operations per output)`,
    withinBound: within,
  });
}

function attention(hw: Hardware, g: PimGeometry, spec: Extract<KernelSpec, { kind: 'attention' }>, o: KernelOptions): Partial0 {
  if (spec.hq % spec.hkv !== 0) fail('PIMC0703', `${spec.hq} query heads do not split into groups over ${spec.hkv} KV heads`);
  const r = attentionKernel(hw, g, spec, fp16Values, { seed: o.seed ?? 1, refresh: o.refresh, trace: o.trace, bitExact: o.bitExact, hostReduction: o.hostReduction });
  return { ...report(hw, g, spec, r.run, 0, r.check), simulatedCommands: r.simulatedCommands, phases: r.phases };
}

function elementwise(hw: Hardware, g: PimGeometry, spec: Extract<KernelSpec, { kind: ElementwiseOp }>, o: KernelOptions): Partial0 {
  const plan = planElementwise(g, spec.kind, spec.size);
  const a = fp16Values(spec.size, (o.seed ?? 1) * 7919);
  const b = spec.kind === 'add' || spec.kind === 'mul' ? fp16Values(spec.size, (o.seed ?? 1) * 104729) : undefined;
  const scalars = spec.kind === 'mad' ? { scale: f16BitsOf(f16(0.75)), shift: f16BitsOf(f16(-0.125)) } : undefined;
  const stores = newStores(g.pch, g.banks);
  layoutOperand(g, plan, a, plan.base.a, stores);
  if (b) layoutOperand(g, plan, b, plan.base.b, stores);
  const stream = elementwiseStream(g, plan, scalars);
  const run = runSystem(stream, stores, { hw, refresh: o.refresh, trace: o.trace });
  const got = collectResult(g, plan, stores);
  const want = o.bitExact ? elementwiseFp16Loop(spec.kind, a, b, scalars) : undefined;
  let mismatches = 0;
  let maxErr = 0;
  let within = true;
  // every output against the FP16 loop (if asked) and the exact result with its bound; locals for
  // the loop (a module binding is checked for initialisation on every read)
  const value = F16_VALUE;
  const kind = spec.kind;
  const ops = kind === 'mad' ? 2 : 1;
  const gamma = (ops * 2 ** -11) / (1 - ops * 2 ** -11);
  for (let i = 0; i < spec.size; i++) {
    const v = value[got[i]!]!;
    if (want && !Object.is(v, want[i]!)) mismatches++;
    const x = value[a[i]!]!;
    const exact = kind === 'add' ? x + value[b![i]!]! : kind === 'mul' ? x * value[b![i]!]! : kind === 'relu' ? Math.max(x, 0) : x * 0.75 - 0.125;
    const err = Math.abs(v - exact);
    maxErr = Math.max(maxErr, err);
    if (err > gamma * (kind === 'mad' ? Math.abs(x * 0.75) + 0.125 : Math.abs(exact)) + 2 ** -25) within = false;
  }
  return report(hw, g, spec, run, commandCount(stream.items), {
    bitExact: o.bitExact ? mismatches === 0 : null,
    mismatches,
    maxAbsError: maxErr,
    bound: `|r - exact| <= gamma_k * |terms| with k = ${spec.kind === 'mad' ? 2 : 1} rounding(s), u = 2^-11 (plus half the smallest subnormal)`,
    withinBound: within,
  });
}
