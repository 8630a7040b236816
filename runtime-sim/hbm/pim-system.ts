// A whole HBM-PIM system: every pseudo-channel runs its stream through the
// channel engine (timing, modes, refresh) with its own data path (banks,
// PCUs, read-back). Pseudo-channels are independent; the kernel takes as long
// as the slowest one.

import type { Hardware } from '../hardware/types.js';
import type { ChannelStats, ColumnEvent, DataPath, Mode, TraceEvent } from './channel-api.js';
import { BankStore } from './bank-store.js';
import { commandAt, MODE_BY_CODE, modeCode, runChannel, unrollStream, type UnrolledStream } from './channel.js';
import { RESERVED_ROW_BIT } from './modes.js';
import { PimDatapath } from './pim-datapath.js';
import type { Command, PchStream } from './stream.js';

export interface SystemRun {
  cycles: number;
  perPch: ChannelStats[];
  /** Commands by kind, summed over pseudo-channels. */
  commands: Record<string, number>;
  /** PCU instruction triggers, summed. */
  triggers: number;
  readbacks: Uint16Array[];
}

export interface SystemOptions {
  hw: Hardware;
  refresh?: boolean;
  /** Trace events of these pseudo-channels (Perfetto export). */
  trace?: { pchs: readonly number[]; sink: (e: TraceEvent) => void };
}

export function newStores(pch: number, banks: number): BankStore[] {
  return Array.from({ length: pch }, () => new BankStore(banks));
}

/**
 * Runs `streams[p]` (or one stream for all) on every pseudo-channel's store.
 * A pseudo-channel without a stream (undefined) idles: no commands, no
 * refresh counted, an empty read-back.
 */
export function runSystem(streams: PchStream | (PchStream | undefined)[], stores: BankStore[], o: SystemOptions): SystemRun {
  const pim = o.hw.pim!;
  const perPch: ChannelStats[] = [];
  const readbacks: Uint16Array[] = [];
  const commands: Record<string, number> = {};
  let triggers = 0;
  // a stream's loops are unrolled once for every pseudo-channel that runs it
  const unrolled = new Map<PchStream, UnrolledStream>();
  // The channel engine runs a stream once, on the first pseudo-channel that
  // has it; its timing does not depend on the data or the pseudo-channel
  // (timeSystem), so on the others the data path gets the same column events
  // (command, cycle, mode) again, replayed in order, and the stats are the same.
  const timed = new Map<PchStream, { stats: ChannelStats; events: EventLog }>();
  stores.forEach((store, pch) => {
    const stream = Array.isArray(streams) ? streams[pch] : streams;
    if (!stream) {
      perPch.push(idleStats());
      readbacks.push(new Uint16Array(0));
      return;
    }
    const path = new PimDatapath({ pch, pcus: pim.pcusPerPseudoChannel, crfEntries: pim.crfEntries, stream, store });
    const traced = o.trace?.pchs.includes(pch) ? o.trace.sink : undefined;
    const hbm = o.hw.memory.hbm;
    if (hbm && !unrolled.has(stream)) unrolled.set(stream, unrollStream(stream, hbm));
    const u = unrolled.get(stream);
    const before = timed.get(stream);
    let stats: ChannelStats;
    if (before && u && !traced) {
      before.events.replay(u, path, pch);
      stats = before.stats;
    } else {
      const events = new EventLog(path);
      stats = runChannel(stream, events, { hw: o.hw, pch, refresh: o.refresh ?? true, trace: traced }, u);
      if (!before) timed.set(stream, { stats, events });
    }
    perPch.push(stats);
    readbacks.push(path.readback);
    triggers += path.triggers;
    for (const [k, v] of Object.entries(stats.commands)) commands[k] = (commands[k] ?? 0) + v;
  });
  return { cycles: Math.max(0, ...perPch.map((s) => s.cycles)), perPch, commands, triggers, readbacks };
}


/**
 * Passes what the channel engine hands a data path on to `inner`, and keeps
 * it: per event the command index (-1: a mode change), the cycle, and the
 * mode (a mode change: from * 3 + to).
 */
class EventLog implements DataPath {
  private index = new Int32Array(256);
  private cycle = new Float64Array(256);
  private mode = new Uint8Array(256);
  private n = 0;

  constructor(private readonly inner: DataPath) {}

  private push(index: number, cycle: number, mode: number): void {
    if (this.n === this.index.length) {
      const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, b: T): T => (b.set(a), b);
      this.index = grow(this.index, new Int32Array(this.n * 2));
      this.cycle = grow(this.cycle, new Float64Array(this.n * 2));
      this.mode = grow(this.mode, new Uint8Array(this.n * 2));
    }
    this.index[this.n] = index;
    this.cycle[this.n] = cycle;
    this.mode[this.n] = mode;
    this.n++;
  }

  column(e: ColumnEvent): void {
    this.push(e.index, e.cycle, modeCode(e.mode));
    this.inner.column(e);
  }

  modeChanged(from: Mode, to: Mode, cycle: number): void {
    this.push(-1, cycle, modeCode(from) * 3 + modeCode(to));
    this.inner.modeChanged?.(from, to, cycle);
  }

  /** The same events, in order, to `path` on pseudo-channel `pch`: commands as the unrolled stream has them. */
  replay(u: UnrolledStream, path: DataPath, pch: number): void {
    if (path instanceof PimDatapath) return path.replayColumns(u, this.index, this.cycle, this.mode, this.n, pch);
    const cmd: Command = { kind: 'ACT', bank: 0, row: 0, col: 0, data: -1, tag: -1, follow: 0 };
    const ev: ColumnEvent = { cmd, index: 0, cycle: 0, mode: 'SB', pch };
    for (let i = 0; i < this.n; i++) {
      const at = this.index[i]!;
      if (at < 0) {
        const m = this.mode[i]!;
        path.modeChanged?.(MODE_BY_CODE[(m / 3) | 0]!, MODE_BY_CODE[m % 3]!, this.cycle[i]!);
        continue;
      }
      commandAt(u, at, cmd);
      ev.index = at;
      ev.cycle = this.cycle[i]!;
      ev.mode = MODE_BY_CODE[this.mode[i]!]!;
      path.column(ev);
    }
  }
}

/**
 * A data path without data: what the channel engine hands it changes
 * nothing; it counts the PIM triggers (RD/WR in AB-PIM mode to a row with
 * bit 12 clear), the commands PimDatapath executes an instruction for.
 */
export class TriggerCounter implements DataPath {
  triggers = 0;
  column(e: ColumnEvent): void {
    if (e.mode === 'AB-PIM' && !(e.cmd.row & RESERVED_ROW_BIT)) this.triggers++;
  }
}

/**
 * runSystem's timing without its data (timing-only runs): no banks, no
 * data path, no read-back. Every command of a stream still goes through the
 * channel engine, but each distinct stream runs once, on the first
 * pseudo-channel that has it (the sampled channel): the engine's timing
 * depends on the commands and the stream's own data table (control words),
 * never on bank contents or on which pseudo-channel it is (refresh starts at
 * the same offset on each), so every pseudo-channel running the same stream
 * takes the same cycles. Cycles are the max over the distinct streams;
 * commands and triggers are totals over every pseudo-channel (the sampled
 * channel's counts times the pseudo-channels that run its stream); `perPch`
 * repeats the sampled channel's stats; read-backs are empty.
 */
export function timeSystem(streams: PchStream | (PchStream | undefined)[], pchs: number, o: Omit<SystemOptions, 'trace'>): SystemRun {
  const perPch: ChannelStats[] = [];
  const sampled = new Map<PchStream, { stats: ChannelStats; triggers: number }>();
  const commands: Record<string, number> = {};
  let triggers = 0;
  let cycles = 0;
  for (let pch = 0; pch < pchs; pch++) {
    const stream = Array.isArray(streams) ? streams[pch] : streams;
    if (!stream) {
      perPch.push(idleStats());
      continue;
    }
    let s = sampled.get(stream);
    if (!s) {
      const path = new TriggerCounter();
      s = { stats: runChannel(stream, path, { hw: o.hw, pch, refresh: o.refresh ?? true }), triggers: path.triggers };
      sampled.set(stream, s);
      if (s.stats.cycles > cycles) cycles = s.stats.cycles;
    }
    perPch.push(s.stats);
    triggers += s.triggers;
    for (const [k, v] of Object.entries(s.stats.commands)) commands[k] = (commands[k] ?? 0) + v;
  }
  return { cycles, perPch, commands, triggers, readbacks: perPch.map(() => new Uint16Array(0)) };
}

function idleStats(): ChannelStats {
  return { cycles: 0, commands: { ACT: 0, PRE: 0, RD: 0, WR: 0, REF: 0 }, rowHits: 0, rowMisses: 0, modeCycles: { SB: 0, AB: 0, 'AB-PIM': 0 } };
}
