// The shape of an HBM-PIM system as the backend lays data out on it.
//
// PIM data rows. In AB-PIM mode a column command executes the CRF only on a
// row whose address has bit 12 (RA12) clear (HARDWARE.md 3.3; the channel
// simulator, runtime-sim/hbm/pim-datapath.ts, checks the same bit). With 16K
// rows per bank (14-bit row address) those are 0x0000-0x0FFF and
// 0x2000-0x2FFF: two ranges of 4,096 rows. The reserved rows (park 0x1000,
// SB -> AB 0x17FF, AB -> SB 0x1FFF, configuration 0x3FFF) all have RA12 set,
// so they lie outside both. A matrix the PCUs read must sit inside one range
// (GEMV plans address rowBase..rowBase+rowsUsed contiguously).

import { fail, q } from '../../ir/diagnostics.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';

/** Row-address bit that must be clear for a column command to trigger PIM execution. */
export const PIM_ROW_BIT = 0x1000;

export interface PimGeometry {
  /** Pseudo-channels (all stacks). */
  pch: number;
  /** PCUs per pseudo-channel (one per bank pair). */
  pcus: number;
  lanes: number;
  banks: number;
  /** Rows a PIM kernel can use, as [first, end) ranges: those with RA12 = 0, below rowsPerBank. */
  dataRanges: (readonly [number, number])[];
  /** Rows usable for data in all ranges together. */
  dataRows: number;
  burstsPerRow: number;
  /** GEMV: output rows a PCU accumulates per round (GRF_B entries). */
  rowsPerPcu: number;
  /** GEMV: inputs per tile (8 GRF_A bursts of 16 lanes). */
  inputTile: number;
  crfEntries: number;
}

/** The [first, end) runs of rows below `rowsPerBank` whose bit 12 is clear. */
export function pimDataRanges(rowsPerBank: number): [number, number][] {
  const out: [number, number][] = [];
  for (let at = 0; at < rowsPerBank; at += 2 * PIM_ROW_BIT) out.push([at, Math.min(at + PIM_ROW_BIT, rowsPerBank)]);
  return out;
}

export function pimGeometry(hw: Hardware): PimGeometry {
  const hbm = hw.memory.hbm;
  const pim = hw.pim;
  if (!hbm || !pim) fail('PIMC0703', `hardware ${q(hw.name)} has no HBM-PIM`);
  const dataRanges = pimDataRanges(hbm.rowsPerBank);
  return {
    pch: hbm.stacks * hbm.pseudoChannelsPerStack,
    pcus: pim.pcusPerPseudoChannel,
    lanes: pim.lanes,
    banks: hbm.banksPerPseudoChannel,
    dataRanges,
    dataRows: dataRanges.reduce((a, [s, e]) => a + e - s, 0),
    burstsPerRow: hbm.rowBytes / hbm.burstBytes,
    rowsPerPcu: pim.grfEntries,
    inputTile: pim.grfEntries * pim.lanes,
    crfEntries: pim.crfEntries,
  };
}

/** Whether rows base..base+rows-1 lie inside one PIM data range. */
export function inDataRange(g: PimGeometry, base: number, rows: number): boolean {
  return g.dataRanges.some(([s, e]) => base >= s && base + rows <= e);
}

/** The ranges as text: "rows 0-4095 and 8192-12287". */
export function dataRangesText(g: PimGeometry): string {
  return `rows ${g.dataRanges.map(([s, e]) => `${s}-${e - 1}`).join(' and ') || 'none'}`;
}

/**
 * How a weight GEMV of k inputs and n outputs is spread (the codegen's
 * layout, compiler/codegen/pim-steps.ts, and the split the cost model
 * assumes, compiler/placement/pim-cost.ts): as few pseudo-channels as still
 * give the fewest rounds of outputs; with pseudo-channels to spare, the
 * inputs are cut into slices of whole tiles, each on its own group, and the
 * host adds the partial sums. Every slice uses the rows of a
 * planGemv(n, perSlice, vectors, { pchs }).
 */
export function gemvSplit(g: PimGeometry, k: number, n: number): { pchs: number; perSlice: number; cuts: (readonly [number, number])[] } {
  const pchs = Math.min(g.pch, Math.ceil(n / (g.pcus * g.rowsPerPcu)));
  const tiles = Math.ceil(k / g.inputTile);
  const perSlice = Math.ceil(tiles / Math.max(1, Math.min(Math.floor(g.pch / pchs), tiles))) * g.inputTile;
  const cuts = Array.from({ length: Math.ceil(k / perSlice) }, (_, i) => [i * perSlice, Math.min(k, (i + 1) * perSlice)] as const);
  return { pchs, perSlice, cuts };
}

const even = (r: number) => r + (r % 2);

/**
 * Bank rows in the PIM data ranges, the same on every pseudo-channel:
 * resident regions (weights, KV caches, constant operands) first-fit from
 * the bottom of each range, each on an even row (a GEMV tile's two rows are
 * an even-odd pair) and never across a range boundary; per-call scratch
 * (element-wise operands and results) shared at the top of the last range.
 * Nothing is freed. The code generator and the placement's capacity check
 * use this same allocator.
 */
export class PimRows {
  /** Next free row of each range. */
  private readonly next: number[];
  private top = 0;
  private taken = 0;

  constructor(readonly ranges: readonly (readonly [number, number])[]) {
    this.next = ranges.map(([s]) => s);
  }

  /** Rows for PIM data in all ranges. */
  get usable(): number {
    return this.ranges.reduce((a, [s, e]) => a + e - s, 0);
  }

  private limit(i: number): number {
    return this.ranges[i]![1] - (i === this.ranges.length - 1 ? this.top : 0);
  }

  /** A resident region of `rows` rows (rounded up to even): its first row, or undefined when no range has room. */
  resident(rows: number): number | undefined {
    const r = even(rows);
    for (let i = 0; i < this.ranges.length; i++) {
      if (this.next[i]! + r <= this.limit(i)) {
        const at = this.next[i]!;
        this.next[i] = at + r;
        this.taken += r;
        return at;
      }
    }
    return undefined;
  }

  /** Per-call scratch of `rows` rows (rounded up to even) at the top of the last range: its first row, or undefined. */
  perCall(rows: number): number | undefined {
    const r = even(rows);
    const last = this.ranges.length - 1;
    if (last < 0 || this.next[last]! + r > this.ranges[last]![1]) return undefined;
    this.top = Math.max(this.top, r);
    return this.ranges[last]![1] - r;
  }

  get used(): { resident: number; perCall: number } {
    return { resident: this.taken, perCall: this.top };
  }

  /** The longest run a resident region could still take. */
  get largestFree(): number {
    return Math.max(0, ...this.ranges.map((_, i) => this.limit(i) - this.next[i]!));
  }
}
