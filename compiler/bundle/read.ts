// Reading a bundle back: the manifest checked, every file checked against
// its recorded size and SHA-256, the programs decoded by their backends'
// strict decoders, the PIM work planned again for the bundle's hardware.
// Whatever is wrong is a coded error naming the file (PIMC13xx), never a
// crash halfway through a simulation.

import fs from 'node:fs';
import path from 'node:path';
import { fail, isPimcError, q } from '../../ir/diagnostics.js';
import { decodeProgram as decodeNpu } from '../../backends/npu/binary.js';
import { decodeProgram as decodePnm } from '../../backends/cxl-pnm/binary.js';
import { pimGeometry } from '../../backends/hbm-pim/geometry.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';
import type { NpuMemoryApi } from '../../runtime-sim/npu/api.js';
import type { ExecStep } from '../../runtime-sim/runtime/machine-exec.js';
import type { PimLoad } from '../../runtime-sim/runtime/pim-exec.js';
import { BUNDLE_SCHEMA, type Manifest } from './manifest.js';
import { decodePim, slotsFrom, type Json } from './pim-codec.js';
import { loadWeights, openReferenced } from './weights.js';
import { sha256 } from './write.js';

export interface LoadedBundle {
  dir: string;
  manifest: Manifest;
  hw: Hardware;
  steps: ExecStep[];
  /** What goes into the HBM-PIM banks before the run (absent: nothing on pim). */
  pimLoads?: PimLoad[];
  /** Writes the weights into their DRAM homes. */
  loadWeights(mem: NpuMemoryApi): void;
}

function readManifest(dir: string): Manifest {
  const file = path.join(dir, 'manifest.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return fail('PIMC1301', `${q(dir)} is not a pimc bundle: it has no readable manifest.json (write one with pimc compile)`);
  }
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (e) {
    return fail('PIMC1303', `${q(file)} is not valid JSON: ${(e as Error).message}`);
  }
  if (!m || typeof m !== 'object' || typeof m.schema !== 'string') fail('PIMC1301', `${q(file)} is not a pimc bundle manifest (no "schema")`);
  if (m.schema !== BUNDLE_SCHEMA) fail('PIMC1302', `${q(dir)} is a ${q(m.schema)} bundle; this pimc reads ${BUNDLE_SCHEMA}; compile it again`);
  for (const k of ['steps', 'inputs', 'outputs', 'files'] as const) {
    if (!m[k] || typeof m[k] !== 'object') fail('PIMC1303', `${q(file)} has no ${q(k)}`);
  }
  if (!m.weights || !Array.isArray(m.weights.tensors)) fail('PIMC1303', `${q(file)} has no "weights"`);
  return m;
}

export function readBundle(dir: string): LoadedBundle {
  const manifest = readManifest(dir);
  const cache = new Map<string, Uint8Array>();
  /** A file of the bundle, checked against the manifest once. */
  const read = (name: string): Uint8Array => {
    const known = cache.get(name);
    if (known) return known;
    const rec = manifest.files[name];
    if (!rec) return fail('PIMC1303', `bundle ${q(dir)} refers to ${q(name)}, which its manifest does not list`);
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(path.join(dir, name));
    } catch {
      return fail('PIMC1303', `bundle ${q(dir)} misses ${q(name)}; compile it again`);
    }
    if (bytes.length !== rec.bytes || sha256(bytes) !== rec.sha256) {
      fail('PIMC1303', `${q(name)} in bundle ${q(dir)} is corrupt: ${bytes.length} bytes (manifest: ${rec.bytes}), checksum ${bytes.length === rec.bytes ? 'differs' : 'not checked'}; compile it again`);
    }
    // big files are read when needed, not kept
    if (bytes.length < 1 << 24) cache.set(name, bytes);
    return bytes;
  };
  const text = (name: string): Json => {
    try {
      return JSON.parse(new TextDecoder().decode(read(name))) as Json;
    } catch (e) {
      if (isPimcError(e)) throw e;
      return fail('PIMC1303', `${q(name)} in bundle ${q(dir)} is not valid JSON`);
    }
  };

  read(manifest.hardware.file);
  const hw = loadHardware(path.join(dir, manifest.hardware.file));
  const geometry = manifest.pim || manifest.steps.some((s) => s.device === 'pim') ? pimGeometry(hw) : undefined;
  const slots = manifest.pim ? slotsFrom(read(manifest.pim.slots), manifest.pim.slots) : new Int32Array(0);
  const pim = <T>(file: string): T => decodePim<T>(text(file), { read, slots, geometry: geometry!, where: file });

  const steps = manifest.steps.map((s, i): ExecStep => {
    if (s.device === 'link') {
      if (!Array.isArray(s.copies) || s.copies.length === 0) fail('PIMC1303', `step ${i} of bundle ${q(dir)} is a link step without copies`);
      return { device: 'link', copies: s.copies };
    }
    if (s.device === 'npu') return { device: 'npu', name: s.name, program: decodeNpu(read(s.file), s.file) };
    if (s.device === 'pnm') return { device: 'pnm', name: s.name, program: decodePnm(read(s.file), s.file) };
    if (s.device === 'pim') {
      if (!geometry) fail('PIMC1303', `step ${i} of bundle ${q(dir)} runs on pim, but its hardware has no HBM-PIM`);
      return { device: 'pim', name: s.name, work: pim(s.file) };
    }
    return fail('PIMC1303', `step ${i} of bundle ${q(dir)} is on unknown device ${q(String((s as { device: unknown }).device))}`);
  });
  const pimLoads = manifest.pim ? pim<PimLoad[]>(manifest.pim.loads) : undefined;

  return {
    dir,
    manifest,
    hw,
    steps,
    ...(pimLoads ? { pimLoads } : {}),
    loadWeights: (mem) => loadWeights(mem, manifest.weights.tensors, () => read('weights.bin'), (name) => {
      const f = manifest.weights.files[name];
      if (!f) fail('PIMC1303', `a weight of bundle ${q(dir)} refers to model file ${q(name)}, which the manifest does not list`);
      return openReferenced(dir, name, f);
    }),
  };
}
