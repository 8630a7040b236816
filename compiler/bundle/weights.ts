// A bundle's weights: embedded as an image of their DRAM bytes (f16 or i32,
// little-endian), or referenced in the model's own files (raw initializer
// bytes, external data included), converted when the bundle is loaded. Only
// weights the model stores as raw bytes can be referenced; constants the
// compiler made (folded) are always embedded.

import fs from 'node:fs';
import path from 'node:path';
import { fail, q } from '../../ir/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import { tensorFromRaw } from '../../ir/raw.js';
import { Tensor, sizeOf } from '../../ir/tensor.js';
import type { DramTensor } from '../../backends/npu/lower/types.js';
import { F16_VALUE, f16, f16BitsOf } from '../../runtime-sim/hbm/fp16.js';
import type { NpuMemoryApi } from '../../runtime-sim/npu/api.js';
import { writeDram } from '../api/model-inputs.js';
import type { BundleWeight, ReferencedFile } from './manifest.js';

/** Largest finite FP16 value: finite floats beyond it saturate, as the host's DRAM writes do (model-inputs.ts). */
const F16_MAX = 65504;

export type WeightMode = 'embed' | 'reference';

/** The DRAM bytes of a tensor in its home's encoding. */
export function dramImage(d: DramTensor, t: Tensor): Uint8Array {
  const n = sizeOf(d.shape);
  const out = new Uint8Array(n * (d.dtype === 'f16' ? 2 : 4));
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const x = t.data[i]!;
    if (d.dtype === 'f16') {
      const s = x > F16_MAX && x !== Infinity ? F16_MAX : x < -F16_MAX && x !== -Infinity ? -F16_MAX : x;
      view.setUint16(i * 2, f16BitsOf(f16(s)), true);
    } else view.setInt32(i * 4, Math.trunc(x), true);
  }
  return out;
}

export interface PlannedWeights {
  tensors: BundleWeight[];
  files: Record<string, ReferencedFile>;
  /** weights.bin's parts, in order (empty: no image). */
  image: Uint8Array[];
}

/** Where each constant of `g` comes from in the bundle. */
export function planWeights(g: Graph, homes: ReadonlyMap<unknown, DramTensor>, mode: WeightMode, bundleDir: string): PlannedWeights {
  const tensors: BundleWeight[] = [];
  const files: Record<string, ReferencedFile> = {};
  const image: Uint8Array[] = [];
  let at = 0;
  for (const v of g.constants) {
    const dram = homes.get(v)!;
    const c = v.constant!;
    const src = c.source;
    if (mode === 'reference' && src.kind === 'file' && g.baseDir) {
      const abs = path.resolve(g.baseDir, src.path);
      if (!files[src.path]) {
        const bytes = fs.statSync(abs).size;
        files[src.path] = { path: abs, relative: path.relative(path.resolve(bundleDir), abs).split(path.sep).join('/'), bytes };
      }
      tensors.push({ name: v.name, dram, from: { kind: 'file', file: src.path, offset: src.offset, length: src.length, dtype: c.dtype } });
      continue;
    }
    const bytes = dramImage(dram, c.get());
    image.push(bytes);
    tensors.push({ name: v.name, dram, from: { kind: 'image', at, bytes: bytes.length } });
    at += bytes.length;
  }
  return { tensors, files, image };
}

/** Opens a referenced model file: beside the bundle first, then where it was; its size must not have changed. */
export function openReferenced(bundleDir: string, name: string, f: ReferencedFile): string {
  for (const p of [path.resolve(bundleDir, f.relative), f.path]) {
    let size: number;
    try {
      size = fs.statSync(p).size;
    } catch {
      continue;
    }
    if (size !== f.bytes) fail('PIMC1304', `the bundle's weights are in ${q(p)}, which has ${size} bytes, not the ${f.bytes} it had at compile time; compile again`);
    return p;
  }
  return fail('PIMC1304', `the bundle's weights are in model file ${q(name)}, found neither at ${q(f.relative)} (from the bundle) nor at ${q(f.path)}; compile again, or with --weights embed`);
}

/** Writes every weight into its DRAM home (host writes before the run, not timed). */
export function loadWeights(
  mem: NpuMemoryApi,
  weights: readonly BundleWeight[],
  image: () => Uint8Array,
  fileOf: (name: string) => string,
): void {
  const fds = new Map<string, number>();
  try {
    for (const w of weights) {
      const n = sizeOf(w.dram.shape);
      if (w.from.kind === 'image') {
        const img = image();
        const { at, bytes } = w.from;
        if (at + bytes > img.length || bytes !== n * (w.dram.dtype === 'f16' ? 2 : 4)) fail('PIMC1303', `weights.bin has no ${bytes} bytes at ${at} for ${q(w.name)}`);
        const view = new DataView(img.buffer, img.byteOffset + at, bytes);
        if (w.dram.dtype === 'f16') {
          const vals = new Float32Array(n);
          for (let i = 0; i < n; i++) vals[i] = F16_VALUE[view.getUint16(i * 2, true)]!;
          mem.writeF16(w.dram.addr, vals);
        } else {
          const vals = new Int32Array(n);
          for (let i = 0; i < n; i++) vals[i] = view.getInt32(i * 4, true);
          mem.writeI32(w.dram.addr, vals);
        }
      } else {
        const { file, offset, length, dtype } = w.from;
        let fd = fds.get(file);
        if (fd === undefined) {
          fd = fs.openSync(fileOf(file), 'r');
          fds.set(file, fd);
        }
        const bytes = new Uint8Array(length);
        const got = fs.readSync(fd, bytes, 0, length, offset);
        if (got !== length) fail('PIMC1304', `model file ${q(file)} ends before bytes ${offset}..${offset + length} of weight ${q(w.name)}`);
        writeDram(mem, w.dram, tensorFromRaw(dtype, w.dram.shape, bytes));
      }
    }
  } finally {
    for (const fd of fds.values()) fs.closeSync(fd);
  }
}
