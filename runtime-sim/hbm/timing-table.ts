// The DRAM timing constraints of one HBM2 pseudo-channel, as data (DESIGN.md
// convention 4, after Ramulator's DRAM standards). Each entry says: a command
// `to` may issue no earlier than `latency` cycles after a command `from`
// issued in `scope` (relative to the bank `to` addresses). Latencies are
// expressions over the timing names of HARDWARE.md 3.4 plus BL, the burst
// length (BL4: a 32-byte burst on the 64-bit pseudo-channel bus, so BL/2 = 2
// cycles of data), and tRTP, the RD -> PRE delay: the description's measured
// `readToPrechargeCycles` (the reference applies 3, below its own tRTP_S/L)
// or else tRTP_L. They are evaluated once per hardware description; the
// checker (constraints.ts) interprets the compiled lists.
//
// Not in the table, and why:
// - tCCD_R is the column-to-column delay across ranks. A pseudo-channel here
//   has one rank (the reference's second rank never holds data: it only
//   shifts the refresh phase, see refresh.ts), so no command pair switches
//   ranks. tRTRS (the data-bus turnaround) does apply: in RD -> WR.
// - tREFI is not a pairwise constraint: refresh.ts schedules REF with it.
// - "all banks closed before REF" and "ACT only to a closed bank" are bank
//   states, not latencies: channel.ts checks them (PIMC0908).

import { fail } from '../../ir/diagnostics.js';
import type { HbmDesc, TimingName } from '../hardware/types.js';

/**
 * Command classes for timing. WRREG is a WR to the configuration row in an
 * all-bank mode: it writes PCU registers (GRF, SRF, CRF, control), not the
 * DRAM array, so a read may follow it after the data bus turns round (no
 * tWTR), and the row may close without write recovery. Measured on the
 * reference: the last GRF_A write at 544, the next MAC read at 555 (GEMV).
 * Streams still say WR; the engine classifies (channel.ts).
 */
export const KINDS = ['ACT', 'PRE', 'RD', 'WR', 'REF', 'WRREG'] as const;
export type Kind = (typeof KINDS)[number];
export const ACT = 0;
export const PRE = 1;
export const RD = 2;
export const WR = 3;
export const REF = 4;
export const WRREG = 5;
export const KIND_INDEX: Readonly<Record<Kind, number>> = { ACT, PRE, RD, WR, REF, WRREG };

export type Scope = 'same-bank' | 'same-bankgroup' | 'other-bankgroup' | 'channel';
export const SCOPES: readonly Scope[] = ['same-bank', 'same-bankgroup', 'other-bankgroup', 'channel'];

export interface ConstraintSpec {
  /** What a PIMC0901 message calls it. */
  name: string;
  from: Kind;
  to: Kind;
  /** same-bankgroup includes the same bank; channel is any bank. */
  scope: Scope;
  /** An expression over the timing names, BL and integers: + - * / ( ). */
  latency: string;
  /** A rolling window: `to` must wait `latency` after the window-th most recent `from` (tFAW: 4 ACTs). */
  window?: number;
  why: string;
}

export const HBM2_CONSTRAINTS: readonly ConstraintSpec[] = [
  // row to row
  { name: 'tRC', from: 'ACT', to: 'ACT', scope: 'same-bank', latency: 'tRC', why: 'a bank activates at most once per row cycle' },
  { name: 'tRRD_L', from: 'ACT', to: 'ACT', scope: 'same-bankgroup', latency: 'tRRD_L', why: 'activates in one bank group share its row circuitry' },
  { name: 'tRRD_S', from: 'ACT', to: 'ACT', scope: 'other-bankgroup', latency: 'tRRD_S', why: 'activate current draw, across bank groups' },
  { name: 'tFAW', from: 'ACT', to: 'ACT', scope: 'channel', latency: 'tFAW', window: 4, why: 'at most four activates in any tFAW window (power)' },
  { name: 'tRAS', from: 'ACT', to: 'PRE', scope: 'same-bank', latency: 'tRAS', why: 'the row must be restored before it closes' },
  { name: 'tRP', from: 'PRE', to: 'ACT', scope: 'same-bank', latency: 'tRP', why: 'the bank must finish precharging before it opens a row' },
  // row to column
  { name: 'tRCD_RD', from: 'ACT', to: 'RD', scope: 'same-bank', latency: 'tRCD_RD', why: 'the row reaches the sense amplifiers before a read' },
  { name: 'tRCD_WR', from: 'ACT', to: 'WR', scope: 'same-bank', latency: 'tRCD_WR', why: 'the row reaches the sense amplifiers before a write' },
  // column to column: one burst occupies the data bus BL/2 cycles; a bank group's I/O needs tCCD_L
  { name: 'tCCD_L', from: 'RD', to: 'RD', scope: 'same-bankgroup', latency: 'tCCD_L', why: 'reads in one bank group share its I/O gating' },
  { name: 'tCCD_S', from: 'RD', to: 'RD', scope: 'other-bankgroup', latency: 'tCCD_S', why: 'reads across bank groups only share the data bus' },
  { name: 'tCCD_L', from: 'WR', to: 'WR', scope: 'same-bankgroup', latency: 'tCCD_L', why: 'writes in one bank group share its I/O gating' },
  { name: 'tCCD_S', from: 'WR', to: 'WR', scope: 'other-bankgroup', latency: 'tCCD_S', why: 'writes across bank groups only share the data bus' },
  { name: 'tRTW', from: 'RD', to: 'WR', scope: 'channel', latency: 'RL + BL/2 + tRTRS - WL', why: 'read data leaves the bus (plus a turnaround) before write data arrives' },
  { name: 'tWTR_L', from: 'WR', to: 'RD', scope: 'same-bankgroup', latency: 'WL + BL/2 + tWTR_L', why: 'write data must be in the bank group before it reads' },
  { name: 'tWTR_S', from: 'WR', to: 'RD', scope: 'other-bankgroup', latency: 'WL + BL/2 + tWTR_S', why: 'write data must be in the array before a read elsewhere' },
  // register writes (WRREG): the column rules of writes, without array write
  // timing. They happen only in all-bank modes, where a command spans every
  // bank group, so tCCD_L always binds (no tCCD_S entries).
  { name: 'tRCD_WR', from: 'ACT', to: 'WRREG', scope: 'same-bank', latency: 'tRCD_WR', why: 'the configuration row is open before a register write' },
  { name: 'tCCD_L', from: 'WRREG', to: 'WRREG', scope: 'same-bankgroup', latency: 'tCCD_L', why: 'writes in one bank group share its I/O gating' },
  { name: 'tCCD_L', from: 'WR', to: 'WRREG', scope: 'same-bankgroup', latency: 'tCCD_L', why: 'writes in one bank group share its I/O gating' },
  { name: 'tCCD_L', from: 'WRREG', to: 'WR', scope: 'same-bankgroup', latency: 'tCCD_L', why: 'writes in one bank group share its I/O gating' },
  { name: 'tRTW', from: 'RD', to: 'WRREG', scope: 'channel', latency: 'RL + BL/2 + tRTRS - WL', why: 'read data leaves the bus (plus a turnaround) before write data arrives' },
  { name: 'register tWTR', from: 'WRREG', to: 'RD', scope: 'channel', latency: 'WL + BL/2 + tRTRS', why: 'register write data leaves the bus (plus a turnaround); nothing goes to the array' },
  { name: 'register write to PRE', from: 'WRREG', to: 'PRE', scope: 'same-bank', latency: 'WL + BL/2', why: 'the register burst is on the bus; no write recovery' },
  // column to row
  { name: 'tRTP', from: 'RD', to: 'PRE', scope: 'same-bank', latency: 'tRTP', why: 'a read completes in the array before the row closes' },
  { name: 'tWR', from: 'WR', to: 'PRE', scope: 'same-bank', latency: 'WL + BL/2 + tWR', why: 'write recovery: the last data is restored before the row closes' },
  // refresh
  { name: 'tRP before REF', from: 'PRE', to: 'REF', scope: 'channel', latency: 'tRP', why: 'every bank has finished precharging when REF starts' },
  { name: 'tRFC', from: 'REF', to: 'ACT', scope: 'channel', latency: 'tRFC', why: 'no activate while the refresh runs' },
  { name: 'tRFC between REFs', from: 'REF', to: 'REF', scope: 'channel', latency: 'tRFC', why: 'refreshes do not overlap' },
  // the row command bus carries one command a cycle (pairs not already covered by a longer latency)
  { name: 'row bus', from: 'ACT', to: 'PRE', scope: 'channel', latency: '1', why: 'one row command per cycle' },
  { name: 'row bus', from: 'PRE', to: 'PRE', scope: 'channel', latency: '1', why: 'one row command per cycle' },
  { name: 'row bus', from: 'PRE', to: 'ACT', scope: 'channel', latency: '1', why: 'one row command per cycle' },
  { name: 'row bus', from: 'REF', to: 'PRE', scope: 'channel', latency: '1', why: 'one row command per cycle' },
];

// ---- expressions -----------------------------------------------------------

const TIMING_NAMES: readonly TimingName[] = [
  'RL', 'WL', 'tRCD_RD', 'tRCD_WR', 'tRP', 'tRAS', 'tRC', 'tWR', 'tCCD_S', 'tCCD_L', 'tCCD_R',
  'tRRD_S', 'tRRD_L', 'tFAW', 'tWTR_S', 'tWTR_L', 'tRTP_S', 'tRTP_L', 'tRTRS', 'tREFI', 'tRFC',
];
const EXPR_NAMES = new Set<string>([...TIMING_NAMES, 'BL', 'tRTP']);

/** Evaluates `expr` (names, integers, + - * / and parentheses; / must divide exactly). */
export function evaluate(expr: string, env: Readonly<Record<string, number>>): number {
  const tokens = expr.match(/[A-Za-z_][A-Za-z0-9_]*|\d+|[-+*/()]|\S/g) ?? [];
  let i = 0;
  const bad = (why: string): never => fail('PIMC0804', `timing expression "${expr}": ${why}`);
  const atom = (): number => {
    const t = tokens[i++];
    if (t === undefined) return bad('ends early');
    if (t === '(') {
      const v = sum();
      if (tokens[i++] !== ')') bad('missing )');
      return v;
    }
    if (t === '-') return -atom();
    if (/^\d+$/.test(t)) return Number(t);
    if (!/^[A-Za-z_]/.test(t)) return bad(`unexpected "${t}"`);
    const v = env[t];
    if (v === undefined) return bad(`unknown name "${t}"`);
    return v;
  };
  const product = (): number => {
    let v = atom();
    while (tokens[i] === '*' || tokens[i] === '/') {
      const op = tokens[i++];
      const r = atom();
      if (op === '*') v *= r;
      else {
        if (r === 0 || v % r !== 0) bad(`${v} / ${r} is not a whole number of cycles`);
        v /= r;
      }
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (tokens[i] === '+' || tokens[i] === '-') v = tokens[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i !== tokens.length) bad(`unexpected "${tokens[i]}"`);
  return v;
}

/** Names an expression uses (for validating the table without a hardware description). */
export function namesIn(expr: string): string[] {
  return expr.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
}

/** Checks the table itself: kinds, scopes, names, windows. Throws an internal error (a bug in this file). */
export function validateTable(table: readonly ConstraintSpec[]): void {
  for (const [i, c] of table.entries()) {
    const where = `timing-table entry ${i} (${c.name} ${c.from} -> ${c.to})`;
    if (!KINDS.includes(c.from) || !KINDS.includes(c.to)) throw new Error(`internal: ${where}: unknown command kind`);
    if (!SCOPES.includes(c.scope)) throw new Error(`internal: ${where}: unknown scope ${c.scope}`);
    for (const n of namesIn(c.latency)) if (!EXPR_NAMES.has(n)) throw new Error(`internal: ${where}: unknown timing name ${n}`);
    if (c.window !== undefined && (c.from !== 'ACT' || c.scope !== 'channel' || !(c.window >= 1))) {
      throw new Error(`internal: ${where}: windows are supported for ACT over the channel only`);
    }
  }
}
validateTable(HBM2_CONSTRAINTS);

// ---- compiled form ---------------------------------------------------------

export const SCOPE_BANK = 0;
export const SCOPE_GROUP = 1;
export const SCOPE_OTHER_GROUP = 2;
export const SCOPE_CHANNEL = 3;
export const SCOPE_WINDOW = 4;

/** The table for one hardware description, as flat arrays grouped by the `to` kind. */
export interface CompiledTiming {
  specs: readonly ConstraintSpec[];
  /** Entries whose `to` is kind k are [toStart[k], toStart[k + 1]). */
  toStart: Int32Array;
  /** Per entry (in grouped order). */
  spec: Int32Array;
  from: Int32Array;
  scope: Int32Array;
  latency: Int32Array;
  /** The tFAW window (ACTs), 0 if none. */
  actWindow: number;
  /** The evaluation environment: every timing name and BL. */
  env: Readonly<Record<string, number>>;
}

const cache = new WeakMap<HbmDesc, CompiledTiming>();

/** BL: bursts are `burstBytes` on a 64-bit (8-byte) pseudo-channel bus, one beat per half cycle. */
export function burstLength(hbm: HbmDesc): number {
  return hbm.burstBytes / 8;
}

/** The names a latency expression may use, with their values for `hbm`. */
export function environment(hbm: HbmDesc): Record<string, number> {
  return { ...hbm.timing, BL: burstLength(hbm), tRTP: hbm.readToPrechargeCycles ?? hbm.timing.tRTP_L };
}

export function compileTiming(hbm: HbmDesc, table: readonly ConstraintSpec[] = HBM2_CONSTRAINTS): CompiledTiming {
  const hit = table === HBM2_CONSTRAINTS ? cache.get(hbm) : undefined;
  if (hit) return hit;
  const env = environment(hbm);
  const order = [...table.keys()].sort((a, b) => KIND_INDEX[table[a]!.to] - KIND_INDEX[table[b]!.to] || a - b);
  const n = order.length;
  const out: CompiledTiming = {
    specs: table,
    toStart: new Int32Array(KINDS.length + 1),
    spec: new Int32Array(n),
    from: new Int32Array(n),
    scope: new Int32Array(n),
    latency: new Int32Array(n),
    actWindow: 0,
    env,
  };
  order.forEach((si, j) => {
    const c = table[si]!;
    const lat = evaluate(c.latency, env);
    if (!Number.isInteger(lat) || lat < 0) fail('PIMC0804', `timing constraint ${c.name} (${c.from} -> ${c.to}) = ${c.latency} = ${lat}: must be a whole number of cycles >= 0`);
    out.spec[j] = si;
    out.from[j] = KIND_INDEX[c.from];
    out.scope[j] = c.window ? SCOPE_WINDOW : SCOPES.indexOf(c.scope);
    out.latency[j] = lat;
    if (c.window) out.actWindow = c.window;
    out.toStart[KIND_INDEX[c.to] + 1] = j + 1;
  });
  for (let k = 1; k <= KINDS.length; k++) out.toStart[k] = Math.max(out.toStart[k]!, out.toStart[k - 1]!);
  if (table === HBM2_CONSTRAINTS) cache.set(hbm, out);
  return out;
}

/** The table with every latency evaluated, for documentation and `--json` output. */
export function describeTiming(hbm: HbmDesc): Array<ConstraintSpec & { cycles: number }> {
  const env = environment(hbm);
  return HBM2_CONSTRAINTS.map((c) => ({ ...c, cycles: evaluate(c.latency, env) }));
}
