// In-flight DMAs and the bytes they touch. A DMA is incomplete from its issue
// cycle until its completion cycle; any access (a compute instruction, or
// another DMA on any engine) that overlaps bytes it writes, or writes bytes
// it reads, in the same memory, is a fault (PIMC1002): the program must wait
// (wait.dma, or a semaphore across engines) first. Footprints are exact byte
// sets (views.ts), not bounding boxes.

import type { Space } from '../../backends/npu/instr.js';
import { SPACE_NAME } from './memory.js';
import { hexAddr, overlap, type Run } from './views.js';

export interface Access {
  space: Space;
  /** Owner of a scratchpad access (ignored for DRAM and shared SRAM). */
  engine: number;
  write: boolean;
  /** Operand name, for messages ("dst", "a"). */
  name: string;
  runs: Run[];
}

export interface InFlight {
  engine: number;
  index: number;
  mnemonic: string;
  tag: number;
  issue: number;
  end: number;
  accesses: Access[];
}

export interface Conflict {
  dma: InFlight;
  mine: Access;
  theirs: Access;
  bytes: Run;
}

/** Lowest and one-past-highest byte of an access (its runs are sorted and merged), cached on it. */
const BOUNDS = new WeakMap<Access, { lo: number; hi: number }>();
function bounds(a: Access): { lo: number; hi: number } {
  let b = BOUNDS.get(a);
  if (!b) {
    const last = a.runs[a.runs.length - 1];
    b = last ? { lo: a.runs[0]!.start, hi: last.start + last.bytes } : { lo: 0, hi: 0 };
    BOUNDS.set(a, b);
  }
  return b;
}

const sameMemory = (a: Access, b: Access) => a.space === b.space && (a.space !== 'spad' || a.engine === b.engine);

export class DmaTracker {
  private live: InFlight[] = [];

  /** Forgets DMAs complete by cycle t (every engine still running is at t or later). */
  prune(t: number): void {
    if (this.live.some((d) => d.end <= t)) this.live = this.live.filter((d) => d.end > t);
  }

  /** True when some incomplete DMA has a scratchpad access on `engine` (so compute must be checked). */
  touchesSpad(engine: number): boolean {
    return this.live.some((d) => d.accesses.some((a) => a.space === 'spad' && a.engine === engine));
  }

  /** The first incomplete DMA that conflicts with one of `accesses`. */
  conflict(accesses: readonly Access[]): Conflict | undefined {
    if (this.live.length === 0) return undefined;
    const mineBounds = accesses.map(bounds);
    for (const dma of this.live) {
      for (const theirs of dma.accesses) {
        const tb = bounds(theirs);
        for (let k = 0; k < accesses.length; k++) {
          const mine = accesses[k]!;
          if (!(mine.write || theirs.write) || !sameMemory(mine, theirs)) continue;
          // disjoint byte ranges cannot share a byte: skip the exact (per-run) test
          const mb = mineBounds[k]!;
          if (mb.hi <= tb.lo || tb.hi <= mb.lo) continue;
          const bytes = overlap(mine.runs, theirs.runs);
          if (bytes) return { dma, mine, theirs, bytes };
        }
      }
    }
    return undefined;
  }

  add(d: InFlight): void {
    this.live.push(d);
  }
}

/** "reads scratchpad bytes 0x100..0x17f that dma.load (engine 0, instruction 3, tag 1, completes at cycle 812) writes; ..." */
export function describeConflict(c: Conflict, selfEngine: number): string {
  const { dma, mine, theirs, bytes } = c;
  const mem = mine.space === 'spad' ? `scratchpad of engine ${mine.engine}` : SPACE_NAME[mine.space];
  const range = `${hexAddr(bytes.start)}..${hexAddr(bytes.start + bytes.bytes - 1)}`;
  const fix = dma.engine === selfEngine
    ? `wait for it first (wait.dma ${dma.tag})`
    : `engine ${dma.engine} must wait for it (wait.dma ${dma.tag}) and then signal a semaphore this engine waits on`;
  return `${mine.name} ${mine.write ? 'writes' : 'reads'} ${mem} bytes ${range} that incomplete ${dma.mnemonic} ` +
    `(engine ${dma.engine}, instruction ${dma.index}, tag ${dma.tag}, issued at cycle ${dma.issue}, completes at cycle ${dma.end}) ` +
    `${theirs.write ? 'writes' : 'reads'} as ${theirs.name}; ${fix}`;
}
