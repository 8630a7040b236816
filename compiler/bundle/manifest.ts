// A bundle's manifest (manifest.json, schema pimc.bundle/1): what `pimc
// compile` wrote and `pimc simulate` needs, in the order the runtime runs it.
// The layout of the folder and the meaning of every field: docs/bundle.md.

import type { DramTensor } from '../../backends/npu/lower/types.js';
import type { PnmTensor } from '../../backends/cxl-pnm/lower/types.js';
import type { DType } from '../../ir/dtype.js';

export const BUNDLE_SCHEMA = 'pimc.bundle/1';

/** A graph input or output: its name, the model's dtype and its DRAM home. */
export interface BundleTensor {
  name: string;
  dtype: DType;
  shape: number[];
  dram: DramTensor;
  /** Its home is the expander instead (a KV cache only PNM ops touch): the host writes or reads it there. */
  pnm?: PnmTensor;
  /** Outputs: ops on the longest path from the inputs (the FP16 tolerance's depth). */
  depth?: number;
}

/** Where a weight's bytes come from when the bundle is loaded. */
export type WeightSource =
  /** Bytes [at, at + bytes) of weights.bin, already in the DRAM encoding (f16 or i32, little-endian). */
  | { kind: 'image'; at: number; bytes: number }
  /** Raw little-endian bytes of the model's own file, in the model's dtype (converted when loaded). */
  | { kind: 'file'; file: string; offset: number; length: number; dtype: DType };

export interface BundleWeight {
  name: string;
  dram: DramTensor;
  from: WeightSource;
}

export interface BundleCopy {
  value: string;
  dram: DramTensor;
  pnm: PnmTensor;
  toDevice: boolean;
}

export type BundleStep =
  | { device: 'npu'; name: string; type: string; file: string }
  | { device: 'pnm'; name: string; type: string; file: string }
  | { device: 'pim'; name: string; type: string; file: string }
  | { device: 'link'; copies: BundleCopy[] };

export interface ReferencedFile {
  /** As written: absolute. */
  path: string;
  /** Relative to the bundle folder (tried first, so a bundle can move with its model). */
  relative: string;
  bytes: number;
}

export interface Manifest {
  schema: typeof BUNDLE_SCHEMA;
  /** pimc version that wrote it. */
  pimc: string;
  model: string;
  /** The hardware description the bundle was compiled for: a file of the bundle. */
  hardware: { name: string; file: string };
  dims: Record<string, number>;
  /** Ops per device. */
  placement: Record<string, number>;
  /** Bytes of NPU DRAM the plan uses. */
  dramBytes: number;
  inputs: BundleTensor[];
  outputs: BundleTensor[];
  weights: {
    mode: 'embed' | 'reference';
    /** Model files the `file` sources read, by the name the sources use. */
    files: Record<string, ReferencedFile>;
    tensors: BundleWeight[];
  };
  /** HBM-PIM: loads before the run, and the bank rows taken (absent: nothing on pim). */
  pim?: { loads: string; slots: string; rows: { resident: number; perCall: number; usable: number } };
  steps: BundleStep[];
  /** Every file of the bundle but the manifest, with its size and SHA-256. */
  files: Record<string, { bytes: number; sha256: string }>;
}
