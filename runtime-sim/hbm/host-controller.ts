// A host memory controller for ordinary reads and writes: the non-PIM
// baselines of HARDWARE.md 5, where the host reads every weight and operand.
// Modelled on the reference's controller (calibration/README.md): open page,
// a transaction queue and a command queue of depth 64 per pseudo-channel,
// round-robin over banks, the reference's address mapping (address-map.ts).
//
// It is a scheduler on top of the same constraint table and checker as the
// channel engine: per pseudo-channel it turns the transactions into ACT /
// PRE / RD / WR / REF commands with issue cycles, and (by default) replays
// them through `runChannel` with those exact cycles, so every emitted
// command is checked again and counted the same way as a PIM stream.
//
// Per cycle, per pseudo-channel:
//   1. One transaction moves from the transaction queue into the command
//      queue if it has room (each waits there as ACT + column = 2 entries).
//   2. Column bus: banks in round-robin order from the one after the last
//      served; the first whose oldest queued transaction hits its open row
//      and whose RD/WR is legal now issues it (in order within a bank).
//   3. Row bus: the same round-robin for row commands: ACT a closed bank that
//      has work, PRE an open bank whose oldest transaction misses, or REF.
//   One row and one column command may share a cycle (separate HBM buses).
// Refresh, calibrated (docs/dram-timing.md): a REF that falls due waits for
// the next row switch (some bank's oldest transaction misses), at most one
// tREFI; then no bank opens, open banks drain their hits and close, REF, and
// work resumes. A REF still pending when the work ends is left to the idle
// time after it. Pseudo-channels are independent (the host feeds all of them
// at the same rate), so each is scheduled alone and identical ones once.

import { fail } from '../../ir/diagnostics.js';
import type { Hardware, HbmDesc } from '../hardware/types.js';
import type { ChannelStats, DataPath } from './channel-api.js';
import { AddressDecoder, referenceAddressMap, type AddressMap, type DecodedAddress } from './address-map.js';
import { BankState, CLOSED } from './banks.js';
import { runChannel } from './channel.js';
import { TimingChecker } from './constraints.js';
import type { Command, PchStream } from './stream.js';
import type { CommandKind } from './stream.js';
import { ACT, compileTiming, KINDS, PRE, RD, REF, WR, type Kind } from './timing-table.js';

export interface HostRequest {
  kind: 'RD' | 'WR';
  /** Byte address and length: split into bursts in address order. */
  addr: number;
  bytes: number;
}

export interface HostOptions {
  hw: Hardware;
  /** Refresh (default true). */
  refresh?: boolean;
  /** 'deferred' (default, calibrated): a due REF waits for a row switch; 'immediate': banks close as soon as it is due. */
  refreshPolicy?: 'deferred' | 'immediate';
  /** Command queue entries per pseudo-channel (reference: 64; a transaction takes 2). */
  commandQueue?: number;
  /** One command per cycle on a shared bus, as the reference's controller issues (default false: HBM's separate row and column buses). */
  oneCommandPerCycle?: boolean;
  map?: AddressMap;
  /** Replay every schedule through the channel engine (default true). */
  verify?: boolean;
  /** Keep each pseudo-channel's command stream and issue cycles. */
  keepStreams?: boolean;
}

export interface HostSchedule {
  stream: PchStream;
  issueAt: Int32Array;
}

export interface HostRun {
  cycles: number;
  perPch: ChannelStats[];
  commands: Record<Kind, number>;
  streams?: HostSchedule[];
}

const NULL_PATH: DataPath = { column() {} };

export function hostAccess(requests: readonly HostRequest[], o: HostOptions): HostRun {
  const hbm = o.hw.memory.hbm;
  if (!hbm) fail('PIMC0804', `hardware ${JSON.stringify(o.hw.name)} has no HBM description (memory.hbm): the host controller needs its organisation and timing`);
  const dec = new AddressDecoder(o.map ?? referenceAddressMap(hbm));
  const perCh = splitByChannel(requests, dec, hbm);
  const memo = new Map<string, { sched: HostSchedule; stats: ChannelStats; tx: Int32Array }>();
  const perPch: ChannelStats[] = [];
  const streams: HostSchedule[] = [];
  perCh.forEach((tx, pch) => {
    const key = `${tx.length}:${hash(tx)}`;
    let m = memo.get(key);
    if (!m || !sameArray(m.tx, tx)) {
      const sched = scheduleChannel(tx, hbm, o);
      const stats = o.verify === false ? statsOf(sched, hbm) : runChannel(sched.stream, NULL_PATH, { hw: o.hw, pch, issueAt: sched.issueAt });
      m = { sched, stats, tx };
      memo.set(key, m);
    }
    perPch.push(m.stats);
    if (o.keepStreams) streams.push(m.sched);
  });
  const commands = Object.fromEntries(KINDS.filter((k) => k !== 'WRREG').map((k) => [k, perPch.reduce((s, p) => s + p.commands[k as keyof typeof p.commands], 0)])) as Record<Kind, number>;
  return { cycles: Math.max(0, ...perPch.map((s) => s.cycles)), perPch, commands, streams: o.keepStreams ? streams : undefined };
}

/** Transactions per pseudo-channel, in arrival order, packed as ((row * cols + col) * banks + bank) * 2 + isWrite. */
function splitByChannel(requests: readonly HostRequest[], dec: AddressDecoder, hbm: HbmDesc): Int32Array[] {
  const nCh = hbm.stacks * hbm.pseudoChannelsPerStack;
  const cols = hbm.rowBytes / hbm.burstBytes;
  const banks = hbm.banksPerPseudoChannel;
  const bb = dec.burstBytes;
  const a: DecodedAddress = { channel: 0, bank: 0, row: 0, col: 0 };
  const visit = (f: (w: number) => void) => {
    for (const r of requests) {
      if (!(r.bytes > 0) || !(r.addr >= 0) || r.addr + r.bytes > dec.capacity) {
        fail('PIMC0703', `host ${r.kind} of ${r.bytes} bytes at ${r.addr} is outside the ${dec.capacity}-byte memory`);
      }
      const w = r.kind === 'WR' ? 1 : 0;
      for (let b = Math.floor(r.addr / bb), last = Math.floor((r.addr + r.bytes - 1) / bb); b <= last; b++) {
        dec.decodeBurst(b, a);
        f(w);
      }
    }
  };
  const counts = new Int32Array(nCh);
  visit(() => counts[a.channel]!++);
  const out = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(nCh);
  visit((w) => (out[a.channel]![fill[a.channel]!++] = ((a.row * cols + a.col) * banks + a.bank) * 2 + w));
  return out;
}

function hash(a: Int32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i]!, 0x01000193);
  return h >>> 0;
}

function sameArray(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Growable command list. */
class Commands {
  kind = new Uint8Array(1024);
  bank = new Uint8Array(1024);
  row = new Int32Array(1024);
  col = new Uint8Array(1024);
  at = new Int32Array(1024);
  n = 0;

  push(k: number, bank: number, row: number, col: number, at: number): void {
    if (this.n === this.kind.length) {
      const grow = <T extends Uint8Array | Int32Array>(x: T): T => {
        const y = new (x.constructor as new (n: number) => T)(x.length * 2);
        y.set(x);
        return y;
      };
      [this.kind, this.bank, this.col] = [grow(this.kind), grow(this.bank), grow(this.col)];
      [this.row, this.at] = [grow(this.row), grow(this.at)];
    }
    const i = this.n++;
    this.kind[i] = k;
    this.bank[i] = bank;
    this.row[i] = row;
    this.col[i] = col;
    this.at[i] = at;
  }

  toSchedule(): HostSchedule {
    const items: Command[] = [];
    for (let i = 0; i < this.n; i++) {
      items.push({ kind: KINDS[this.kind[i]!] as CommandKind, bank: this.bank[i]!, row: this.row[i]!, col: this.col[i]!, data: -1, tag: -1, follow: 0 });
    }
    return { stream: { items, data: new Uint16Array(0), tags: [], readbackBursts: 0 }, issueAt: this.at.slice(0, this.n) };
  }
}

/** The scheduler of one pseudo-channel (see the header for the policy). */
export function scheduleChannel(tx: Int32Array, hbm: HbmDesc, o: HostOptions): HostSchedule {
  const table = compileTiming(hbm);
  const B = hbm.banksPerPseudoChannel;
  const cols = hbm.rowBytes / hbm.burstBytes;
  const s = new BankState(B, hbm.bankGroups, table.actWindow);
  const chk = new TimingChecker(table, s);
  const cap = Math.max(1, Math.floor((o.commandQueue ?? 64) / 2));
  const fifo = new Int32Array(B * cap);
  const head = new Int32Array(B);
  const size = new Int32Array(B);
  const rowOf = (t: number) => Math.floor(t / (2 * B * cols));
  const colOf = (t: number) => Math.floor(t / (2 * B)) % cols;
  const out = new Commands();
  const immediate = o.refreshPolicy === 'immediate';
  const refreshOn = o.refresh !== false && hbm.timing.tREFI > 0;
  const tREFI = hbm.timing.tREFI;
  const single = o.oneCommandPerCycle ?? hbm.commandsPerCycle === 1;
  let due = hbm.refreshOffsetCycles ?? tREFI;
  let credits = 0;
  let closing = false;
  let next = 0;
  let queued = 0;
  let done = 0;
  let colPtr = 0;
  let rowPtr = 0;
  const n = tx.length;
  // a transaction t is packed: row = rowOf(t), col = colOf(t), bank = (t >> 1) % B, write = t & 1
  /** Oldest queued transaction of bank b, or -1. */
  const first = (b: number) => (size[b]! > 0 ? fifo[b * cap + head[b]!]! : -1);

  const stall = 100 * (tREFI + hbm.timing.tRFC + 1000); // no command for this long: a bug, not a slow memory
  for (let now = 0; done < n; now++) {
    if (now - (out.n ? out.at[out.n - 1]! : 0) > stall) throw new Error(`internal: the host scheduler stalled at cycle ${now}`);
    if (next < n && queued < cap) {
      const b = (tx[next]! >> 1) % B;
      if (size[b]! < cap) {
        fifo[b * cap + ((head[b]! + size[b]!) % cap)] = tx[next]!;
        size[b]!++;
        next++;
        queued++;
      }
    }
    if (refreshOn && now > due) {
      credits++;
      due += tREFI;
    }
    if (credits > 0 && !closing) {
      closing = immediate || credits > 1 || anyMiss();
    }
    // column bus
    let issued = false;
    for (let i = 0; i < B; i++) {
      const b = (colPtr + i) % B;
      const t = first(b);
      if (t < 0 || s.openRow[b] !== rowOf(t)) continue;
      if (closing && immediate && chk.earliest(PRE, b) <= now) continue; // close instead
      const k = t & 1 ? WR : RD;
      if (chk.earliest(k, b) > now) continue;
      s.record(k, b, now, out.n);
      out.push(k, b, rowOf(t), colOf(t), now);
      head[b] = (head[b]! + 1) % cap;
      size[b]!--;
      queued--;
      done++;
      colPtr = (b + 1) % B;
      issued = true;
      break;
    }
    if (issued && single) continue;
    // row bus
    if (closing && s.anyOpen() < 0) {
      if (chk.earliest(REF, 0) <= now) {
        s.record(REF, 0, now, out.n);
        out.push(REF, 0, 0, 0, now);
        credits--;
        closing = false;
      }
      continue;
    }
    for (let i = 0; i < B; i++) {
      const b = (rowPtr + i) % B;
      const t = first(b);
      const open = s.openRow[b]!;
      if (open !== CLOSED) {
        const miss = t >= 0 && open !== rowOf(t);
        if (!(miss || (closing && (t < 0 || immediate)))) continue;
        if (chk.earliest(PRE, b) > now) continue;
        s.record(PRE, b, now, out.n);
        s.close(b);
        out.push(PRE, b, 0, 0, now);
      } else {
        if (t < 0 || closing || chk.earliest(ACT, b) > now) continue;
        s.record(ACT, b, now, out.n);
        s.open(b, rowOf(t));
        out.push(ACT, b, rowOf(t), 0, now);
      }
      rowPtr = (b + 1) % B;
      break;
    }
  }
  return out.toSchedule();

  function anyMiss(): boolean {
    for (let b = 0; b < B; b++) {
      const t = first(b);
      if (t >= 0 && s.openRow[b] !== rowOf(t)) return true;
    }
    return false;
  }
}

/** Stats without the replay (verify: false): counts and the end of the last data burst. */
function statsOf(sched: HostSchedule, hbm: HbmDesc): ChannelStats {
  const commands = { ACT: 0, PRE: 0, RD: 0, WR: 0, REF: 0 };
  const half = hbm.burstBytes / 16;
  let end = 0;
  sched.stream.items.forEach((c, i) => {
    const k = c as Command;
    commands[k.kind]++;
    const at = sched.issueAt[i]!;
    end = Math.max(end, at + (k.kind === 'RD' ? hbm.timing.RL + half : k.kind === 'WR' ? hbm.timing.WL + half : 1));
  });
  return { cycles: end, commands, rowHits: commands.RD + commands.WR - commands.ACT, rowMisses: commands.ACT, modeCycles: { SB: end, AB: 0, 'AB-PIM': 0 } };
}
