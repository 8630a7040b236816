// HBM-PIM kernel time from the structure of the kernels the backend emits
// (HARDWARE.md 3.5) and the DRAM timing of the hardware description, not from
// a fitted curve: the estimate can say what it is made of.
//
// GEMV on one pseudo-channel (all 64 run in parallel, in lock step; a matrix
// with fewer rows than the PCUs hold is also cut along its input dimension):
//   per (output round, input tile of 128): 8 GRF_A writes + (rows of 8 x K/16)
//   MACs, each a column command spaced tCCD_L; every DRAM row (32 bursts) costs
//   one PRE + ACT (tRP + ACT-to-first-MAC);
//   per output round: 8 NOP-store writes, then the host reads 8 bursts per PCU;
//   once per kernel: entering and leaving AB-PIM mode;
//   refresh steals tRFC every tREFI.
// Element-wise kernels: per tile of 8 bursts, 8 FILL reads + 8 op reads +
// 8 store writes, touching three rows (two operands, one result).

import type { Hardware } from '../../runtime-sim/hardware/types.js';

export interface PimParts {
  /** Cycles by what they are spent on. */
  mac: number;
  rowSwitch: number;
  inputWrites: number;
  readBack: number;
  modeSwitch: number;
  refresh: number;
}

export const sumParts = (p: PimParts): number => p.mac + p.rowSwitch + p.inputWrites + p.readBack + p.modeSwitch + p.refresh;

function geometry(hw: Hardware) {
  const hbm = hw.memory.hbm!;
  const pim = hw.pim!;
  const pch = hbm.stacks * hbm.pseudoChannelsPerStack;
  const pcus = pch * pim.pcusPerPseudoChannel;
  const t = hbm.timing;
  return {
    pch,
    pcus,
    pcusPerPch: pim.pcusPerPseudoChannel,
    lanes: pim.lanes,
    ccd: t.tCCD_L,
    ccdS: t.tCCD_S,
    rowBursts: hbm.rowBytes / hbm.burstBytes,
    rowSwitch: t.tRP + pim.actToFirstMacCycles,
    refreshShare: t.tRFC / t.tREFI,
    mode: pim.modeEnterCycles + pim.modeExitCycles,
    tck: hbm.tCKns * 1e-9,
  };
}

/** Rows of 8 outputs per PCU per round, as the GEMV layout assigns them. */
const OUTPUT_ROWS_PER_PCU = 8;
/** Elements of one input tile (8 bursts of 16 lanes in GRF_A). */
const INPUT_TILE = 128;

/**
 * How many slices the input dimension is cut into. With fewer output rows
 * than PCU rows (8 per PCU), the layout gives each slice of the input its own
 * PCUs and the host adds the partial sums, so every PCU works.
 */
export function pimInputSplit(hw: Hardware, outputs: number, k: number): number {
  const g = geometry(hw);
  return Math.max(1, Math.min(Math.floor((g.pcus * OUTPUT_ROWS_PER_PCU) / outputs), Math.ceil(k / INPUT_TILE)));
}

/**
 * `vectors` input vectors of `k` elements against matrices with `outputs`
 * rows in total (one weight matrix, or all heads' KV caches side by side).
 */
export function pimGemvCycles(hw: Hardware, vectors: number, outputs: number, k0: number): PimParts {
  const g = geometry(hw);
  const split = pimInputSplit(hw, outputs, k0);
  const k = Math.ceil(k0 / split);
  const rounds = Math.ceil((outputs * split) / (g.pcus * OUTPUT_ROWS_PER_PCU));
  const tiles = Math.ceil(k / INPUT_TILE);
  const macsPerPcu = vectors * rounds * OUTPUT_ROWS_PER_PCU * Math.ceil(k / g.lanes);
  const mac = macsPerPcu * g.ccd;
  const rowSwitch = Math.ceil(macsPerPcu / g.rowBursts) * g.rowSwitch;
  const inputWrites = vectors * rounds * tiles * 8 * g.ccd;
  const readBack = vectors * rounds * (8 * g.ccd + g.pcusPerPch * 8 * g.ccdS);
  const busy = mac + rowSwitch + inputWrites + readBack + g.mode;
  const refresh = busy * (g.refreshShare / (1 - g.refreshShare));
  return { mac, rowSwitch, inputWrites, readBack, modeSwitch: g.mode, refresh };
}

/**
 * Decode attention as the backend runs it (backends/hbm-pim/attention.ts,
 * runtime-sim/runtime/pim-exec.ts): each KV head on its own group of
 * floor(pCH / hkv) pseudo-channels (heads that share a pseudo-channel, when
 * there are more heads than pseudo-channels, one after another), the inputs
 * never cut (no input split), and for every batch item one scores kernel
 * and one context kernel, each entering and leaving AB-PIM mode.
 */
export function pimAttentionCycles(hw: Hardware, a: { b: number; hq: number; hkv: number; sq: number; skv: number; hd: number }): PimParts {
  const g = geometry(hw);
  const perHead = Math.max(1, Math.floor(g.pch / a.hkv));
  const stacked = Math.ceil(a.hkv / g.pch);
  const pcus = perHead * g.pcusPerPch;
  const vectors = (a.hq / a.hkv) * a.sq;
  const phase = (m: number, k: number): PimParts => {
    const rounds = Math.ceil(m / (pcus * OUTPUT_ROWS_PER_PCU));
    const tiles = Math.ceil(k / INPUT_TILE);
    const macsPerPcu = stacked * vectors * rounds * OUTPUT_ROWS_PER_PCU * Math.ceil(k / g.lanes);
    const mac = macsPerPcu * g.ccd;
    const rowSwitch = Math.ceil(macsPerPcu / g.rowBursts) * g.rowSwitch;
    const inputWrites = stacked * vectors * rounds * tiles * 8 * g.ccd;
    const readBack = stacked * vectors * rounds * (8 * g.ccd + g.pcusPerPch * 8 * g.ccdS);
    const busy = mac + rowSwitch + inputWrites + readBack + g.mode;
    return { mac, rowSwitch, inputWrites, readBack, modeSwitch: g.mode, refresh: busy * (g.refreshShare / (1 - g.refreshShare)) };
  };
  const scores = phase(a.skv, a.hd);
  const context = phase(a.hd, a.skv);
  const out: PimParts = { mac: 0, rowSwitch: 0, inputWrites: 0, readBack: 0, modeSwitch: 0, refresh: 0 };
  for (const p of [scores, context]) for (const key of Object.keys(out) as (keyof PimParts)[]) out[key] += a.b * p[key];
  return out;
}

/** An element-wise kernel over n elements; `commands` column commands per tile (24 for add/mul, 16 for ReLU). */
export function pimElementwiseCycles(hw: Hardware, n: number, commands = 24): PimParts {
  const g = geometry(hw);
  const tiles = Math.ceil(n / (g.pcus * g.lanes * 8));
  const mac = tiles * commands * g.ccd;
  const rowSwitch = tiles * (commands / 8) * g.rowSwitch;
  const busy = mac + rowSwitch + g.mode;
  const refresh = busy * (g.refreshShare / (1 - g.refreshShare));
  return { mac, rowSwitch, inputWrites: 0, readBack: 0, modeSwitch: g.mode, refresh };
}

export function cyclesToSeconds(hw: Hardware, cycles: number): number {
  return cycles * geometry(hw).tck;
}
