// The channel engine: runs one pseudo-channel's command stream through the
// DRAM timing model (timing-table.ts, constraints.ts), the bank state
// machines (banks.ts), the mode machine (modes.ts) and refresh (refresh.ts),
// and hands every RD/WR to the data path at the cycle it reaches the banks.
//
// Issue: commands issue in stream order (the backend chooses the order),
// each at the earliest cycle every constraint allows; a row command and a
// column command may share a cycle (HBM has separate row and column command
// buses; the table's "row bus" entries keep row commands one a cycle, tCCD
// the column ones). With `issueAt`, a command with an entry >= 0 issues at
// exactly that cycle, and issuing before a constraint allows is PIMC0901.
//
// All-bank modes: a command reaches every bank of its parity, updates all of
// them and is checked against all of them; column commands there reach the
// banks `pim.allBankColumnDelayCycles` after they issue (measured: 1), which
// is the cycle the data path and the trace see.
//
// Faults carry the pseudo-channel, the command index and the cycle:
// PIMC0901 timing, PIMC0902 row not open, PIMC0903 wrong mode, PIMC0907
// malformed command, PIMC0908 bank already open (or REF with a bank open).

import { fail } from '../../ir/diagnostics.js';
import type { Hardware, HbmDesc } from '../hardware/types.js';
import type { ChannelStats, ColumnEvent, DataPath, Mode, TraceEvent } from './channel-api.js';
import { BankState, CLOSED } from './banks.js';
import { TimingChecker, timingFault } from './constraints.js';
import { broadcasts, columnFault, ModeMachine } from './modes.js';
import { closeDeadlines, RefreshClock, refreshNow, type RefreshHost } from './refresh.js';
import { CONFIG_COLS, forEachCommand, isLoop, ROWS, type Command, type PchStream, type StreamItem } from './stream.js';
import { compileTiming, KIND_INDEX, KINDS } from './timing-table.js';

// Command kinds as module constants: the hot path reads no imported bindings.
const { ACT, PRE, RD, WR, REF, WRREG } = KIND_INDEX;

export interface ChannelOptions {
  hw: Hardware;
  pch: number;
  /** Insert refreshes every tREFI (scheduled issue only; default false). */
  refresh?: boolean;
  trace?: (e: TraceEvent) => void;
  /** Cycle the stream starts at (default 0). */
  startCycle?: number;
  /** Exact issue cycle per command index (loops unrolled); -1: the earliest legal cycle. */
  issueAt?: Int32Array;
}

/**
 * Runs one pseudo-channel's stream. `unrolled` is the stream as unrollStream
 * gives it for this hardware: runSystem unrolls a stream once for all the
 * pseudo-channels that run it. Without it, the engine walks the stream's
 * loops as it goes (a stream run once is not worth unrolling first).
 */
export function runChannel(stream: PchStream, path: DataPath, opts: ChannelOptions, unrolled?: UnrolledStream): ChannelStats {
  const e = new ChannelEngine(stream, path, opts);
  if (unrolled?.stream === stream && unrolled.hbm === e.hbm) e.run(unrolled);
  else forEachCommand(stream.items, e.visit);
  return e.finish();
}

/**
 * A stream with its loops unrolled, one entry per command, as the engine
 * runs it: the kind as written and as a timing class (-1: unknown), the
 * other fields exactly as forEachCommand gives them, and why each malformed
 * command is malformed for `hbm` (PIMC0907, raised when the engine reaches
 * it). A pure function of the stream and the hardware.
 */
export interface UnrolledStream {
  stream: PchStream;
  hbm: HbmDesc;
  length: number;
  kindName: Command['kind'][];
  kind: Int8Array;
  bank: Field;
  row: Field;
  col: Field;
  data: Field;
  tag: Field;
  follow: Field;
  malformed: Map<number, string>;
}

/**
 * A field of every command: 32-bit integers as they always are in a
 * well-formed stream (the engine's Command then only ever holds small
 * integers, which keeps its compiled code stable); a stream with any other
 * value in a field (a malformed one) is unrolled into plain arrays, which
 * keep every value as it was for the fault message.
 */
type Field = Int32Array | number[];

/** Command `at` of an unrolled stream, written into `into` (one object reused on the hot paths that walk a stream). */
export function commandAt(u: UnrolledStream, at: number, into: Command): Command {
  into.kind = u.kindName[at]!;
  into.bank = u.bank[at]!;
  into.row = u.row[at]!;
  into.col = u.col[at]!;
  into.data = u.data[at]!;
  into.tag = u.tag[at]!;
  into.follow = u.follow[at]!;
  return into;
}

/** Modes by number, as recorded event logs keep them (pim-system.ts EventLog; a mode change: from * 3 + to). */
export const MODE_BY_CODE: readonly Mode[] = ['SB', 'AB', 'AB-PIM'];
export const modeCode = (m: Mode): number => (m === 'SB' ? 0 : m === 'AB' ? 1 : 2);

export function unrollStream(stream: PchStream, hbm: HbmDesc): UnrolledStream {
  // plain arrays hold any value exactly: the second try always succeeds
  return unrollInto(stream, hbm, (n) => new Int32Array(n)) ?? unrollInto(stream, hbm, (n) => new Array<number>(n))!;
}

/** The unrolled stream with fields made by `field`, or undefined if a value does not fit them exactly. */
function unrollInto(stream: PchStream, hbm: HbmDesc, field: (n: number) => Field): UnrolledStream | undefined {
  const n = countCommands(stream.items);
  const kindName = new Array<Command['kind']>(n);
  const kind = new Int8Array(n);
  const [bank, row, col, data, tag, follow] = [field(n), field(n), field(n), field(n), field(n), field(n)];
  const malformedAt = new Map<number, string>();
  let exact = true;
  const visited = forEachCommand(stream.items, (c, i) => {
    kindName[i] = c.kind;
    kind[i] = kindOf(c.kind);
    bank[i] = c.bank;
    row[i] = c.row;
    col[i] = c.col;
    data[i] = c.data;
    tag[i] = c.tag;
    follow[i] = c.follow;
    exact &&= Object.is(bank[i], c.bank) && Object.is(row[i], c.row) && Object.is(col[i], c.col) && Object.is(data[i], c.data) && Object.is(tag[i], c.tag) && Object.is(follow[i], c.follow);
    const why = malformed(c, kind[i]!, hbm, stream);
    if (why) malformedAt.set(i, why);
  });
  if (visited !== n) throw new Error(`internal: unrolled ${visited} commands, counted ${n}`);
  return exact ? { stream, hbm, length: n, kindName, kind, bank, row, col, data, tag, follow, malformed: malformedAt } : undefined;
}

/** Commands forEachCommand visits: a loop runs its body for k = 0, 1, ... while k < count. */
function countCommands(items: readonly StreamItem[]): number {
  let n = 0;
  for (const it of items) n += isLoop(it) ? (it.count > 0 ? Math.ceil(it.count) : 0) * countCommands(it.body) : 1;
  return n;
}

const kindOf = (k: string): number => (k === 'RD' ? RD : k === 'WR' ? WR : k === 'ACT' ? ACT : k === 'PRE' ? PRE : k === 'REF' ? REF : -1);

/** Why a command of timing class k (-1: unknown) is malformed (PIMC0907), or '' if it is not. */
function malformed(c: Command, k: number, h: HbmDesc, stream: PchStream): string {
  const cols = h.rowBytes / h.burstBytes;
  const dataBursts = Math.floor(stream.data.length / 16);
  if (k < 0) return `unknown command kind ${JSON.stringify(c.kind)}`;
  if (c.bank >>> 0 !== c.bank || c.bank >= h.banksPerPseudoChannel) return `bank ${c.bank} (banks are 0..${h.banksPerPseudoChannel - 1})`;
  if ((k === ACT || k === RD || k === WR) && (c.row >>> 0 !== c.row || c.row >= h.rowsPerBank)) return `row ${c.row} (rows are 0..${h.rowsPerBank - 1})`;
  if ((k === RD || k === WR) && (c.col >>> 0 !== c.col || c.col >= cols)) return `column ${c.col} (columns are 0..${cols - 1})`;
  if (k === WR && c.data !== -1 && (c.data >>> 0 !== c.data || c.data >= dataBursts)) return `write data burst ${c.data} (the stream has ${dataBursts})`;
  if (k === RD && c.data !== -1 && (c.data >>> 0 !== c.data || c.data >= stream.readbackBursts)) return `read-back slot ${c.data} (the stream has ${stream.readbackBursts})`;
  return '';
}

class ChannelEngine implements RefreshHost {
  readonly state: BankState;
  private readonly checker: TimingChecker;
  private readonly modes = new ModeMachine();
  readonly hbm: HbmDesc;
  private readonly pch: number;
  private readonly start: number;
  private readonly abDelay: number;
  /** 1 when the controller issues one command per cycle (scheduled issue only). */
  private readonly slotGap: number;
  /** Cycles from issue to the end of the data burst, per kind. */
  private readonly done: Int32Array;
  private readonly clock: RefreshClock | undefined;
  /** Per bank, the cycle it could close at when the pending refresh fell due (for `deadlinesFor`). */
  private readonly deadlines: Float64Array;
  private deadlinesFor = -1;
  private readonly counts = new Float64Array(KINDS.length);
  private readonly ev: ColumnEvent;
  private lastIssue: number;
  private end: number;
  private hits = 0;
  private misses = 0;
  private modeSince: number;
  private readonly modeCycles: Record<Mode, number> = { SB: 0, AB: 0, 'AB-PIM': 0 };
  phase: string | undefined;

  constructor(private readonly stream: PchStream, private readonly path: DataPath, private readonly o: ChannelOptions) {
    const hbm = o.hw.memory.hbm;
    if (!hbm) fail('PIMC0804', `hardware ${JSON.stringify(o.hw.name)} has no HBM description (memory.hbm): the channel engine needs its banks and timing`);
    const table = compileTiming(hbm);
    this.hbm = hbm;
    this.state = new BankState(hbm.banksPerPseudoChannel, hbm.bankGroups, table.actWindow);
    this.checker = new TimingChecker(table, this.state);
    this.pch = o.pch;
    this.start = o.startCycle ?? 0;
    this.lastIssue = this.start;
    this.end = this.start;
    this.modeSince = this.start;
    this.abDelay = o.hw.pim?.allBankColumnDelayCycles ?? 0;
    this.slotGap = (hbm.commandsPerCycle ?? 2) === 1 && !o.issueAt ? 1 : 0;
    const half = table.env.BL! / 2;
    this.done = new Int32Array([1, 1, hbm.timing.RL + half, hbm.timing.WL + half, 1, hbm.timing.WL + half]);
    if (o.refresh && o.issueAt) fail('PIMC0703', 'refresh insertion needs the engine to schedule; a stream with explicit issue cycles carries its own REF commands');
    this.clock = o.refresh && hbm.timing.tREFI > 0 ? new RefreshClock(hbm, this.start) : undefined;
    this.deadlines = new Float64Array(hbm.banksPerPseudoChannel);
    this.ev = { cmd: undefined as unknown as Command, index: 0, cycle: 0, mode: 'SB', pch: o.pch };
  }

  get mode(): Mode {
    return this.modes.mode;
  }

  private where(index: number, cycle: number): string {
    return `pCH ${this.pch}, command ${index}, cycle ${cycle}`;
  }

  earliestFor(k: number, bank: number, all: boolean): number {
    const c = all ? this.checker.earliestAll(k, bank & 1) : this.checker.earliest(k, bank);
    // commands issue in order; with one command slot per cycle, after the previous one
    const after = this.lastIssue + this.slotGap;
    return c > after ? c : after;
  }

  /** The next command of a stream walked as it goes: malformed (PIMC0907, at the cycle of the command before) or run. */
  visit = (c: Command, index: number): void => {
    const k = kindOf(c.kind);
    const bad = malformed(c, k, this.hbm, this.stream);
    if (bad) fail('PIMC0907', `malformed ${c.kind} command: ${bad}, ${this.where(index, this.lastIssue)}`);
    this.step(c, k, index);
  };

  /** Runs an unrolled stream's commands in order; a malformed one fails as in `visit`, when the engine reaches it. */
  run(u: UnrolledStream): void {
    const c: Command = { kind: 'ACT', bank: 0, row: 0, col: 0, data: -1, tag: -1, follow: 0 };
    const malformed = u.malformed;
    for (let i = 0; i < u.length; i++) {
      if (malformed.size && malformed.has(i)) fail('PIMC0907', `malformed ${u.kindName[i]} command: ${malformed.get(i)}, ${this.where(i, this.lastIssue)}`);
      this.step(commandAt(u, i, c), u.kind[i]!, i);
    }
  }

  /** A well-formed command of timing class k (RD, WR, ACT, PRE, REF) at stream index `index`. */
  private step(c: Command, k: number, index: number): void {
    const col = k === RD || k === WR;
    // a configuration-row write in an all-bank mode sets PCU registers: its own timing class
    if (k === WR && c.row === ROWS.config && this.modes.mode !== 'SB') k = WRREG;
    const all = broadcasts(this.modes.mode, col, c.row);
    let t = this.earliestFor(k, c.bank, all);
    const at = this.o.issueAt ? this.o.issueAt[index] ?? -1 : -1;
    this.checkState(c, k, all, at >= 0 ? at : t, index);
    if (at >= 0) {
      if (at < this.lastIssue) fail('PIMC0907', `issue cycle ${at} of ${c.kind} is before the previous command's ${this.lastIssue}: commands issue in stream order, ${this.where(index, at)}`);
      if (at < t) timingFault(this.checker.broken(k, c.bank, all, at), k, at, this.pch, index);
      t = at;
    } else if (this.clock && t > this.clock.due) {
      t = this.refreshBefore(k, c.bank, all, col, t);
    }
    if (c.tag >= 0) this.phase = this.stream.tags[c.tag];
    this.issue(c, k, all, t, index);
  }

  /** A refresh fell due before cycle t: refresh now unless it may wait (see below); returns the new earliest cycle. */
  private refreshBefore(k: number, bank: number, all: boolean, col: boolean, t: number): number {
    const clock = this.clock!;
    while (t > clock.due) {
      // In SB mode a due refresh waits while commands keep coming, at most
      // one tREFI (JEDEC lets a controller postpone refreshes). Measured on
      // the reference: in AB-PIM mode REFs issue when due (GEMV: due 1,950 /
      // 5,850 / 9,750, issued 1,954 / 5,876 / 9,752); the 2M MUL ends at
      // 5,926 with one REF, so the one due at 5,850, after it returned to
      // SB mode, waited; the host-only traces show SB-mode REFs held back.
      if (this.modes.mode === 'SB' && t - clock.due < clock.interval) break;
      // a column command may still go while its bank could not close anyway
      if (this.deadlinesFor !== clock.due) {
        closeDeadlines(this, this.deadlines);
        this.deadlinesFor = clock.due;
      }
      if (col && t < this.deadlines[bank]!) break;
      refreshNow(this);
      t = this.earliestFor(k, bank, all);
    }
    return t;
  }

  private checkState(c: Command, k: number, all: boolean, cycle: number, index: number): void {
    const s = this.state;
    const p = c.bank & 1;
    if (k === ACT) {
      const b = all ? s.firstOpen(p) : s.openRow[c.bank] !== CLOSED ? c.bank : -1;
      if (b >= 0) fail('PIMC0908', `ACT row ${c.row} to ${this.reached(c.bank, all)}, but bank ${b} already has row ${s.openRow[b]} open, ${this.where(index, cycle)}; PRE it first`);
    } else if (k === RD || k === WR || k === WRREG) {
      const why = columnFault(this.modes.mode, c.kind as 'RD' | 'WR', c.row, c.col, c.data);
      if (why) fail('PIMC0903', `${why}: ${c.kind} bank ${c.bank} row ${c.row} col ${c.col}, ${this.where(index, cycle)}`);
      const b = all ? s.firstNotOpenAt(p, c.row) : s.openRow[c.bank] !== c.row ? c.bank : -1;
      if (b >= 0) {
        const open = s.openRow[b] === CLOSED ? 'no row open' : `row ${s.openRow[b]} open`;
        fail('PIMC0902', `${c.kind} to row ${c.row} col ${c.col} of ${this.reached(c.bank, all)}, but bank ${b} has ${open}, ${this.where(index, cycle)}; ACT row ${c.row} first`);
      }
    } else if (k === REF) {
      const b = s.anyOpen();
      if (b >= 0) fail('PIMC0908', `REF while bank ${b} has row ${s.openRow[b]} open (REF needs every bank closed), ${this.where(index, cycle)}; PRE it first`);
    }
  }

  /** The banks a command reaches, for fault messages. */
  private reached(bank: number, all: boolean): string {
    return all ? `the ${bank & 1 ? 'odd' : 'even'} banks (all-bank mode)` : `bank ${bank}`;
  }

  private issue(c: Command, k: number, all: boolean, t: number, index: number): void {
    const s = this.state;
    const bank = c.bank;
    const p = bank & 1;
    if (all) s.recordAll(k, p, bank, t, index);
    else s.record(k, bank, t, index);
    this.counts[k]!++;
    this.lastIssue = t;
    const from = this.modes.mode;
    let at = t;
    if (k === ACT) {
      if (all) s.openAll(p, c.row);
      else s.open(bank, c.row);
      const m = this.modes.act(bank, c.row);
      if (m) this.changeMode(from, m, t);
    } else if (k === PRE) {
      const before = s.openRow[bank]!;
      if (all) s.closeAll(p);
      else s.close(bank);
      const m = this.modes.pre(bank, before);
      if (m) this.changeMode(from, m, t);
    } else if (k === REF) {
      this.clock?.refreshed(t);
    } else {
      const mode = from;
      // the first column command after an ACT is the miss that opened the row (in every mode)
      if (s.colsSinceAct[bank]!++ === 0) this.misses++;
      else this.hits++;
      if (mode !== 'SB') at = t + this.abDelay;
      const ev = this.ev;
      ev.cmd = c;
      ev.index = index;
      ev.cycle = at;
      ev.mode = mode;
      this.path.column(ev);
      if (k === WRREG && c.col === CONFIG_COLS.control) {
        const on = c.data >= 0 && (this.stream.data[c.data * 16]! & 1) === 1;
        const m = this.modes.control(on);
        if (m) this.changeMode(from, m, at);
      }
    }
    const e = at + this.done[k]!;
    if (e > this.end) this.end = e;
    if (this.o.trace) this.o.trace({ kind: c.kind, pch: this.pch, cycle: at, bank, row: c.row, col: c.col, tag: c.tag >= 0 ? this.stream.tags[c.tag] : undefined });
  }

  /** A command the engine adds (refresh): same constraints and stats, no data path, no mode machine. */
  insert(k: number, bank: number, row: number, all: boolean, tag: string | undefined): void {
    const s = this.state;
    const t = this.earliestFor(k, bank, all);
    if (all) s.recordAll(k, bank & 1, bank, t, -1);
    else s.record(k, bank, t, -1);
    if (k === ACT) {
      if (all) s.openAll(bank & 1, row);
      else s.open(bank, row);
    } else if (k === PRE) {
      if (all) s.closeAll(bank & 1);
      else s.close(bank);
    } else if (k === REF) this.clock?.refreshed(t);
    this.counts[k]!++;
    this.lastIssue = t;
    if (t + 1 > this.end) this.end = t + 1;
    if (this.o.trace) this.o.trace({ kind: KINDS[k]!, pch: this.pch, cycle: t, bank, row, col: 0, tag }); // inserted: ACT, PRE or REF
  }

  private changeMode(from: Mode, to: Mode, cycle: number): void {
    this.modeCycles[from] += cycle - this.modeSince;
    this.modeSince = cycle;
    this.path.modeChanged?.(from, to, cycle);
  }

  finish(): ChannelStats {
    const end = Math.max(this.end, this.modeSince);
    this.modeCycles[this.modes.mode] += end - this.modeSince;
    this.modeSince = end;
    const n = (k: number) => this.counts[k]!;
    return {
      cycles: end,
      commands: { ACT: n(ACT), PRE: n(PRE), RD: n(RD), WR: n(WR) + n(WRREG), REF: n(REF) },
      rowHits: this.hits,
      rowMisses: this.misses,
      modeCycles: { ...this.modeCycles },
    };
  }
}
