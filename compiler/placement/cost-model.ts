// Estimated time of each op on each device, and of moving data between them.
//
// Node cost: a roofline on the device (max of compute time and memory time)
// plus fixed launch costs; on HBM-PIM, the kernel structure of pim-cost.ts.
// Edge cost: where a value lives when its producer is done ("residency") and
// where its consumer needs it. NPU ops and PIM GEMV-type kernels talk to the
// host side (PIM kernels write their own inputs into GRFs and read their
// results back, and that is in their node cost); PIM element-wise kernels
// work on operands in the banks, so data in and out of them crosses the
// external bus; PNM ops sit behind the CXL link.

import type { Hardware, Device } from '../../runtime-sim/hardware/types.js';
import type { OpWork } from '../analysis/op-costs.js';
import { totalBytes } from '../analysis/op-costs.js';
import { cyclesToSeconds, pimElementwiseCycles, pimGemvCycles, sumParts, type PimParts } from './pim-cost.js';
import { attentionFlops, attentionSize, linearSize, outputElements } from './shapes.js';

export type Bound = 'compute' | 'memory' | 'pim-kernel' | 'free';

export interface Estimate {
  seconds: number;
  bound: Bound;
  /** Seconds by component, for --explain. */
  parts: Record<string, number>;
}

/** Where a value sits: host side (NPU SRAM/HBM), PIM bank layout, or the CXL expander. */
export type Residency = 'host' | 'bank' | 'cxl';

const MATRIX_KINDS = new Set(['linear', 'matmul']);

export class CostModel {
  /**
   * kvInCxl: the KV cache does not fit in HBM beside the weights, so it lives
   * in the CXL expander (placement.ts decides): attention and KV appends off
   * the PNM engine reach it over the link, and PIM cannot hold it.
   */
  constructor(readonly hw: Hardware, readonly opts: { kvInCxl?: boolean } = {}) {}

  // ---- derived rates -------------------------------------------------------

  get npuMatrixFlops(): number {
    const n = this.hw.npu!;
    return n.engines * n.arrayRows * n.arrayCols * 2 * n.clockGHz * 1e9;
  }

  get npuVectorFlops(): number {
    const n = this.hw.npu!;
    return n.engines * n.vectorLanes * n.vectorOpsPerLaneCycle * n.clockGHz * 1e9;
  }

  /** Bytes per second a long stream over the external bus reaches. */
  get memoryBandwidth(): number {
    return this.hw.memory.peakGBps * 1e9 * this.hw.memory.streamEfficiency;
  }

  // ---- node costs ----------------------------------------------------------

  estimate(w: OpWork, d: Device): Estimate {
    if (w.kind === 'view') return { seconds: 0, bound: 'free', parts: {} };
    const e = d === 'npu' ? this.npu(w) : d === 'pim' ? this.pim(w) : this.pnm(w);
    return this.opts.kvInCxl && d !== 'pnm' ? this.kvOverLink(w, e) : e;
  }

  /**
   * With the cache in the expander, an attention or KV append elsewhere moves
   * its cache bytes (the whole cache read, or the new token written) over the
   * CXL link, at link bandwidth plus one link latency.
   */
  private kvOverLink(w: OpWork, e: Estimate): Estimate {
    if ((w.kind !== 'attention' && w.kind !== 'kv-append') || !this.hw.pnm || w.bytes.kv === 0) return e;
    const p = this.hw.pnm;
    const link = w.bytes.kv / (p.linkGBps * 1e9) + p.linkLatencyNs * 1e-9;
    return { seconds: e.seconds + link, bound: e.bound, parts: { ...e.parts, kvOverLink: link } };
  }

  private roofline(compute: number, memory: number, fixed: number, fixedName: string): Estimate {
    const bound: Bound = compute >= memory ? 'compute' : 'memory';
    return { seconds: fixed + Math.max(compute, memory), bound, parts: { compute, memory, [fixedName]: fixed } };
  }

  private npu(w: OpWork): Estimate {
    const n = this.hw.npu!;
    const memory = totalBytes(w.bytes) / this.memoryBandwidth;
    // Every NPU op is a kernel (data movement too: DMA in, DMA out): a launch,
    // then on the critical path the first load's latency and the last
    // store's (what the NPU simulator charges; issue [4/6] compared them).
    const fixed = (n.kernelLaunchNs + 2 * n.dmaLatencyNs) * 1e-9;
    if (w.kind === 'movement') return this.roofline(0, memory, fixed, 'launch');
    let compute: number;
    if (w.kind === 'attention') {
      const f = attentionFlops(attentionSize(w));
      compute = f.matmul / this.npuMatrixFlops + f.softmax / this.npuVectorFlops;
    } else if (MATRIX_KINDS.has(w.kind)) compute = w.flops / this.npuMatrixFlops;
    else compute = w.flops / this.npuVectorFlops;
    return this.roofline(compute, memory, fixed, 'launch');
  }

  private pimParts(p: PimParts): Record<string, number> {
    const s = (c: number) => cyclesToSeconds(this.hw, c);
    return { mac: s(p.mac), rowSwitch: s(p.rowSwitch), inputWrites: s(p.inputWrites), readBack: s(p.readBack), modeSwitch: s(p.modeSwitch), refresh: s(p.refresh) };
  }

  /** The host (the NPU's command processor) issues a PIM kernel like any other kernel. */
  private get pimLaunch(): number {
    return (this.hw.npu?.kernelLaunchNs ?? 0) * 1e-9;
  }

  private pimKernel(p: PimParts, extra: Record<string, number> = {}): Estimate {
    const launch = this.pimLaunch;
    const more = Object.values(extra).reduce((a, b) => a + b, 0);
    return { seconds: launch + cyclesToSeconds(this.hw, sumParts(p)) + more, bound: 'pim-kernel', parts: { launch, ...this.pimParts(p), ...extra } };
  }

  private pim(w: OpWork): Estimate {
    if (w.kind === 'linear') {
      const { rows, k, n } = linearSize(w);
      return this.pimKernel(pimGemvCycles(this.hw, rows, n, k));
    }
    if (w.kind === 'attention') {
      // scores = q.K^T and context = P.V as GEMVs over the cache in the banks;
      // the softmax between them runs on the NPU on the read-back scores.
      const a = attentionSize(w);
      const group = a.hq / a.hkv;
      const scores = pimGemvCycles(this.hw, group * a.sq, a.b * a.hkv * a.skv, a.hd);
      const context = pimGemvCycles(this.hw, group * a.sq, a.b * a.hkv * a.hd, a.skv);
      const both: PimParts = { mac: 0, rowSwitch: 0, inputWrites: 0, readBack: 0, modeSwitch: 0, refresh: 0 };
      for (const p of [scores, context]) for (const key of Object.keys(both) as (keyof PimParts)[]) both[key] += p[key];
      const softmax = this.hw.npu ? this.npuVectorOp(attentionFlops(a).softmax, a.b * a.hq * a.sq * a.skv * 4) : 0;
      // two PIM kernels around the softmax: the second launch is in the softmax's NPU time
      return this.pimKernel(both, { softmaxOnNpu: softmax });
    }
    if (w.kind === 'kv-append') {
      // the new token's keys or values are written into the bank layout
      const write = w.bytes.kv / this.memoryBandwidth;
      return { seconds: this.pimLaunch + write, bound: 'memory', parts: { launch: this.pimLaunch, write } };
    }
    return this.pimKernel(pimElementwiseCycles(this.hw, outputElements(w), w.op.type === 'Relu' ? 16 : 24));
  }

  /** A small vector op on the NPU (launch + max of compute and memory). */
  private npuVectorOp(flops: number, bytes: number): number {
    const n = this.hw.npu!;
    return (n.kernelLaunchNs + 2 * n.dmaLatencyNs) * 1e-9 + Math.max(flops / this.npuVectorFlops, bytes / this.memoryBandwidth);
  }

  private pnm(w: OpWork): Estimate {
    const p = this.hw.pnm!;
    const fixed = p.launchNs * 1e-9;
    const memory = totalBytes(w.bytes) / (p.internalGBps * 1e9);
    const matrix = p.units * p.matrixTflopsPerUnit * 1e12;
    const vector = p.units * p.vectorGflopsPerUnit * 1e9;
    let compute: number;
    if (w.kind === 'attention') {
      const f = attentionFlops(attentionSize(w));
      compute = f.matmul / matrix + f.softmax / vector;
    } else if (MATRIX_KINDS.has(w.kind)) compute = w.flops / matrix;
    else compute = w.flops / vector;
    return this.roofline(compute, memory, fixed, 'launch');
  }

  // ---- residency and edges -------------------------------------------------

  /** Where an op on device d leaves its outputs. */
  outputResidency(w: OpWork, d: Device): Residency {
    if (d === 'pnm') return 'cxl';
    if (this.opts.kvInCxl && w.kind === 'kv-append') return 'cxl'; // the appended cache stays in the expander
    if (d === 'pim' && (w.kind === 'elementwise' || w.kind === 'activation' || w.kind === 'kv-append')) return 'bank';
    return 'host';
  }

  /** Where an op on device d needs input i. */
  inputResidency(w: OpWork, d: Device, i: number): Residency {
    if (d === 'pnm') return 'cxl';
    // the cache is read where it lives (its transfer is in the op's estimate)
    if (this.opts.kvInCxl && w.kind === 'attention' && (i === 1 || i === 2)) return 'cxl';
    if (d !== 'pim') return 'host';
    if (w.kind === 'elementwise' || w.kind === 'activation') return 'bank';
    // attention reads the KV cache (inputs 1, 2) where it lives, in the banks
    if (w.kind === 'attention' && (i === 1 || i === 2)) return 'bank';
    return 'host';
  }

  /** Seconds to move `bytes` from one residency to another. */
  move(bytes: number, from: Residency, to: Residency): number {
    if (from === to || bytes === 0) return 0;
    let t = 0;
    if (from === 'bank' || to === 'bank') t += bytes / this.memoryBandwidth;
    if (from === 'cxl' || to === 'cxl') {
      const p = this.hw.pnm!;
      t += bytes / (p.linkGBps * 1e9) + p.linkLatencyNs * 1e-9;
    }
    return t;
  }
}
