// The typed form of a validated hardware description (schema.ts says what
// each field means and load.ts checks it). Plain numbers here; where each came
// from is in `sources`, keyed by field path ("npu.clockGHz").

export type TimingName =
  | 'RL' | 'WL' | 'tRCD_RD' | 'tRCD_WR' | 'tRP' | 'tRAS' | 'tRC' | 'tWR' | 'tCCD_S' | 'tCCD_L' | 'tCCD_R'
  | 'tRRD_S' | 'tRRD_L' | 'tFAW' | 'tWTR_S' | 'tWTR_L' | 'tRTP_S' | 'tRTP_L' | 'tRTRS' | 'tREFI' | 'tRFC';

export interface NpuDesc {
  engines: number;
  arrayRows: number;
  arrayCols: number;
  vectorLanes: number;
  scratchpadBytes: number;
  sharedSramBytes: number;
  clockGHz: number;
  vectorOpsPerLaneCycle: number;
  kernelLaunchNs: number;
  dmaLatencyNs: number;
  /** A DMA moves whole bursts of this many bytes per contiguous run (runtime-sim/npu/timing.ts). */
  dmaBurstBytes: number;
  /** Shared SRAM bandwidth, one server for all engines (DRAM's is memory.peakGBps x streamEfficiency). */
  sharedSramGBps: number;
  /** Cycles a vector instruction adds to its element rate (pipeline fill). */
  vectorPipelineCycles: number;
  storage: 'fp16' | 'fp32';
  accumulate: 'fp16' | 'fp32';
}

export interface HbmDesc {
  stacks: number;
  pseudoChannelsPerStack: number;
  banksPerPseudoChannel: number;
  bankGroups: number;
  rowsPerBank: number;
  rowBytes: number;
  burstBytes: number;
  tCKns: number;
  timing: Record<TimingName, number>;
  /** RD to PRE in the same bank as the memory applies it (default tRTP_L). */
  readToPrechargeCycles?: number;
  /** First REF due at this cycle, then every tREFI (default tREFI). */
  refreshOffsetCycles?: number;
  /** 1: one command per cycle (the reference's controller); 2 (default): a row and a column command may share a cycle. */
  commandsPerCycle?: number;
}

export interface MemoryDesc {
  kind: 'hbm2' | 'gddr6';
  peakGBps: number;
  capacityGiB: number;
  streamEfficiency: number;
  hbm?: HbmDesc;
}

export interface PimDesc {
  pcusPerPseudoChannel: number;
  lanes: number;
  clockMHz: number;
  crfEntries: number;
  grfEntries: number;
  srfEntries: number;
  modeEnterCycles: number;
  modeExitCycles: number;
  actToFirstMacCycles: number;
  /** All-bank column commands reach the banks (and PCUs) this many cycles after they issue (default 0). */
  allBankColumnDelayCycles?: number;
  hostReduction: 'fp16' | 'fp32';
}

export interface PnmDesc {
  verified: boolean;
  units: number;
  capacityGiB: number;
  internalGBps: number;
  linkGBps: number;
  linkLatencyNs: number;
  sramBytesPerUnit: number;
  matrixTflopsPerUnit: number;
  vectorGflopsPerUnit: number;
  launchNs: number;
  descriptorBytes: number;
  queueDepth: number;
  /** Fixed cost of each descriptor on its unit (launchNs is the whole host round trip, which runtime-sim/pnm models from the link). */
  descriptorLaunchNs: number;
}

export interface Hardware {
  name: string;
  description?: string;
  npu?: NpuDesc;
  memory: MemoryDesc;
  pim?: PimDesc;
  pnm?: PnmDesc;
  /** Field path -> where the number comes from. */
  sources: Map<string, string>;
  /** The file it was read from. */
  file: string;
}

/** Devices an op can be placed on. */
export type Device = 'npu' | 'pim' | 'pnm';

export function devicesOf(hw: Hardware): Device[] {
  const d: Device[] = [];
  if (hw.npu) d.push('npu');
  if (hw.pim) d.push('pim');
  if (hw.pnm) d.push('pnm');
  return d;
}
