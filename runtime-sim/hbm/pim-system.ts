// A whole HBM-PIM system: every pseudo-channel runs its stream through the
// channel engine (timing, modes, refresh) with its own data path (banks,
// PCUs, read-back). Pseudo-channels are independent; the kernel takes as long
// as the slowest one.

import type { Hardware } from '../hardware/types.js';
import type { ChannelStats, TraceEvent } from './channel-api.js';
import { BankStore } from './bank-store.js';
import { runChannel, unrollStream, type UnrolledStream } from './channel.js';
import { PimDatapath } from './pim-datapath.js';
import type { PchStream } from './stream.js';

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
  // a stream's loops are unrolled once for every pseudo-channel that runs it (each still runs every command)
  const unrolled = new Map<PchStream, UnrolledStream>();
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
    const stats = runChannel(stream, path, { hw: o.hw, pch, refresh: o.refresh ?? true, trace: traced }, unrolled.get(stream));
    perPch.push(stats);
    readbacks.push(path.readback);
    triggers += path.triggers;
    for (const [k, v] of Object.entries(stats.commands)) commands[k] = (commands[k] ?? 0) + v;
  });
  return { cycles: Math.max(0, ...perPch.map((s) => s.cycles)), perPch, commands, triggers, readbacks };
}

function idleStats(): ChannelStats {
  return { cycles: 0, commands: { ACT: 0, PRE: 0, RD: 0, WR: 0, REF: 0 }, rowHits: 0, rowMisses: 0, modeCycles: { SB: 0, AB: 0, 'AB-PIM': 0 } };
}
