// The hardware description schema, as a table the loader interprets.
//
// A description is JSON. Every number carries its source: either the leaf is
// `{ "value": n, "source": "..." }`, or an enclosing object has a
// `"source"` string that covers its plain-number fields (a table copied from
// one place, like the DRAM timing of HARDWARE.md 3.4).

export type FieldKind = 'int' | 'number' | 'bool' | 'string';

export interface LeafSpec {
  kind: FieldKind;
  unit?: string;
  min?: number;
  max?: number;
  /** Allowed strings. */
  oneOf?: readonly string[];
  doc: string;
  optional?: boolean;
}

export interface SectionSpec {
  section: Record<string, LeafSpec | SectionSpec>;
  optional?: boolean;
  doc: string;
}

export type Spec = LeafSpec | SectionSpec;

export const isSection = (s: Spec): s is SectionSpec => 'section' in s;

const int = (doc: string, min = 0, unit?: string): LeafSpec => ({ kind: 'int', min, unit, doc });
const num = (doc: string, min = 0, unit?: string, max?: number): LeafSpec => ({ kind: 'number', min, unit, max, doc });

const TIMING: Record<string, LeafSpec> = Object.fromEntries(
  ['RL', 'WL', 'tRCD_RD', 'tRCD_WR', 'tRP', 'tRAS', 'tRC', 'tWR', 'tCCD_S', 'tCCD_L', 'tCCD_R', 'tRRD_S', 'tRRD_L', 'tFAW',
    'tWTR_S', 'tWTR_L', 'tRTP_S', 'tRTP_L', 'tRTRS', 'tREFI', 'tRFC'].map((k) => [k, int(`${k} in tCK`, 0, 'tCK')]),
);

export const HARDWARE_SCHEMA: SectionSpec = {
  doc: 'a pimc hardware description',
  section: {
    name: { kind: 'string', doc: 'preset or system name' },
    description: { kind: 'string', doc: 'one paragraph', optional: true },
    npu: {
      optional: true,
      doc: 'the NPU (HARDWARE.md 2); absent in host-only systems',
      section: {
        engines: int('neural engines', 1),
        arrayRows: int('systolic array rows', 1),
        arrayCols: int('systolic array columns', 1),
        vectorLanes: int('vector unit lanes per engine', 1),
        scratchpadBytes: int('scratchpad per engine', 1, 'B'),
        sharedSramBytes: int('shared on-chip SRAM', 0, 'B'),
        clockGHz: num('engine clock', 0.001, 'GHz'),
        vectorOpsPerLaneCycle: num('vector ops per lane per cycle', 0.01),
        kernelLaunchNs: num('fixed cost of launching one kernel', 0, 'ns'),
        dmaLatencyNs: num('fixed latency of one DMA transfer', 0, 'ns'),
        dmaBurstBytes: int('DMA transfer granule: a contiguous run of r bytes moves ceil(r / this) bursts', 1, 'B'),
        sharedSramGBps: num('shared SRAM bandwidth, shared by all engines\' DMAs', 1, 'GB/s'),
        vectorPipelineCycles: int('fixed pipeline latency of one vector instruction', 0, 'cycles'),
        storage: { kind: 'string', oneOf: ['fp16', 'fp32'], doc: 'tensor storage precision' },
        accumulate: { kind: 'string', oneOf: ['fp16', 'fp32'], doc: 'matmul accumulation precision' },
      },
    },
    memory: {
      doc: 'main memory the NPU (or host) reads',
      section: {
        kind: { kind: 'string', oneOf: ['hbm2', 'gddr6'], doc: 'memory technology' },
        peakGBps: num('peak external bandwidth, all channels', 1, 'GB/s'),
        capacityGiB: num('capacity', 0.001, 'GiB'),
        streamEfficiency: num('fraction of the peak a long streaming read reaches', 0.01, undefined, 1),
        hbm: {
          optional: true,
          doc: 'HBM organisation and timing (HARDWARE.md 3.1, 3.4)',
          section: {
            stacks: int('stacks', 1),
            pseudoChannelsPerStack: int('pseudo-channels per stack', 1),
            banksPerPseudoChannel: int('banks per pseudo-channel', 2),
            bankGroups: int('bank groups per pseudo-channel', 1),
            rowsPerBank: int('rows per bank', 1),
            rowBytes: int('bytes per row', 32, 'B'),
            burstBytes: int('bytes per column burst', 1, 'B'),
            tCKns: num('clock period', 0.01, 'ns'),
            timing: { doc: 'DRAM timing constraints in tCK', section: TIMING },
            readToPrechargeCycles: {
              ...int('RD to PRE in the same bank, as the memory applies it; default tRTP_L', 0, 'tCK'),
              optional: true,
            },
            refreshOffsetCycles: {
              ...int('cycle at which the first REF of a pseudo-channel falls due (later ones every tREFI); default tREFI', 0, 'tCK'),
              optional: true,
            },
            commandsPerCycle: {
              ...int('commands the controller issues per cycle: 2 uses HBM\'s separate row and column buses, 1 shares one slot; default 2', 1, 'commands'),
              max: 2,
              optional: true,
            },
          },
        },
      },
    },
    pim: {
      optional: true,
      doc: 'HBM-PIM processing units (HARDWARE.md 3); needs memory.hbm',
      section: {
        pcusPerPseudoChannel: int('PCUs per pseudo-channel (one per bank pair)', 1),
        lanes: int('FP16 SIMD lanes per PCU', 1),
        clockMHz: num('PCU clock', 1, 'MHz'),
        crfEntries: int('CRF instructions per pseudo-channel', 1),
        grfEntries: int('GRF_A and GRF_B registers per PCU', 1),
        srfEntries: int('SRF_M and SRF_A registers per PCU', 1),
        modeEnterCycles: int('cycles from SB mode to AB-PIM mode', 0, 'tCK'),
        modeExitCycles: int('cycles from the last PIM command back to SB mode', 0, 'tCK'),
        actToFirstMacCycles: int('cycles from ACT to the first triggering column command', 0, 'tCK'),
        allBankColumnDelayCycles: {
          ...int('cycles after it issues at which an all-bank (AB, AB-PIM) column command reaches the banks and the PCUs; default 0', 0, 'tCK'),
          optional: true,
        },
        hostReduction: { kind: 'string', oneOf: ['fp16', 'fp32'], doc: 'precision of the host lane reduction' },
      },
    },
    pnm: {
      optional: true,
      doc: 'CXL memory expander with near-memory engines (HARDWARE.md 4)',
      section: {
        verified: { kind: 'bool', doc: 'false while the figures are estimates' },
        units: int('compute units', 1),
        capacityGiB: num('expander capacity', 0.001, 'GiB'),
        internalGBps: num('internal memory bandwidth', 1, 'GB/s'),
        linkGBps: num('CXL link bandwidth each way', 0.1, 'GB/s'),
        linkLatencyNs: num('link transfer latency', 0, 'ns'),
        sramBytesPerUnit: int('input and partial-sum SRAM per unit', 1, 'B'),
        matrixTflopsPerUnit: num('matrix engine peak per unit (FP16 in, FP32 accumulate)', 0.001, 'TFLOP/s'),
        vectorGflopsPerUnit: num('vector engine peak per unit', 0.001, 'GFLOP/s'),
        launchNs: num('queue fill, doorbell and completion poll', 0, 'ns'),
        descriptorBytes: int('bytes per descriptor', 8, 'B'),
        queueDepth: int('descriptors per instruction queue', 1),
        descriptorLaunchNs: num('per-descriptor cost inside a unit: fetch, decode, tensor-table reads, first DRAM access', 0, 'ns'),
      },
    },
  },
};
