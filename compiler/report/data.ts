// What `pimc report` puts on its page: plain data gathered by
// compiler/api/report.ts and drawn by html.ts (which reads nothing else).

import type { AnalyzeReport } from '../api/analyze.js';
import type { VerifiedOutput } from '../api/verify.js';

export interface ReportOp {
  /** Position in program order (0-based). */
  index: number;
  name: string;
  type: string;
  kind: string;
  /** The device the simulator ran it on. */
  device: string;
  /** Simulated seconds of its step(s); null when it has none (views move no data). */
  simulated: number | null;
  /** The cost model's estimate on each device that can run it (empty for views). */
  estimates: Record<string, number>;
  /** Why the placement chose its device ('' when the analysis has no such op). */
  reason: string;
}

export interface ReportStep {
  device: string;
  name: string;
  start: number;
  seconds: number;
}

export interface ReportData {
  model: string;
  hardware: string;
  /** Devices of the hardware (the timeline adds a 'link' lane). */
  devices: string[];
  version: string;
  /** Symbolic dims bound by the inputs. */
  dims: Record<string, number>;
  inputs: { name: string; dtype: string; shape: (number | string)[] }[];
  /** Simulated seconds of one run of the model (one step) on the hardware. */
  seconds: number;
  /** The same model simulated on the `npu` preset. */
  npuSeconds: number;
  /** npuSeconds / seconds. */
  speedup: number;
  /** The cost model's view of the same graph (its first scenario drives the estimates). */
  analysis: AnalyzeReport;
  verification: {
    ok: boolean;
    /** The test-data folder used. */
    inputs: string;
    outputs: VerifiedOutput[];
    tolerance: string;
  };
  /** Ops per device. */
  placement: Record<string, number>;
  ops: ReportOp[];
  timeline: ReportStep[];
  secondsByDevice: Record<string, number>;
  pim?: { cycles: number; hostBytes: number; commands: Record<string, number>; triggers: number };
}
