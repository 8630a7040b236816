// The shape of an HBM-PIM system as the backend lays data out on it.

import { fail, q } from '../../ir/diagnostics.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';

export interface PimGeometry {
  /** Pseudo-channels (all stacks). */
  pch: number;
  /** PCUs per pseudo-channel (one per bank pair). */
  pcus: number;
  lanes: number;
  banks: number;
  /** Rows usable for data: bit 12 of the row address must be clear for a PIM trigger. */
  dataRows: number;
  burstsPerRow: number;
  /** GEMV: output rows a PCU accumulates per round (GRF_B entries). */
  rowsPerPcu: number;
  /** GEMV: inputs per tile (8 GRF_A bursts of 16 lanes). */
  inputTile: number;
  crfEntries: number;
}

export function pimGeometry(hw: Hardware): PimGeometry {
  const hbm = hw.memory.hbm;
  const pim = hw.pim;
  if (!hbm || !pim) fail('PIMC0703', `hardware ${q(hw.name)} has no HBM-PIM`);
  return {
    pch: hbm.stacks * hbm.pseudoChannelsPerStack,
    pcus: pim.pcusPerPseudoChannel,
    lanes: pim.lanes,
    banks: hbm.banksPerPseudoChannel,
    dataRows: Math.min(hbm.rowsPerBank, 0x1000),
    burstsPerRow: hbm.rowBytes / hbm.burstBytes,
    rowsPerPcu: pim.grfEntries,
    inputTile: pim.grfEntries * pim.lanes,
    crfEntries: pim.crfEntries,
  };
}
