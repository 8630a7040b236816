// Writing a bundle: the machine code of a compiled model as a folder
// (docs/bundle.md), all or nothing.
//
// Every file is written into a temporary sibling folder first; only when all
// of them are there is it renamed to the bundle's name (an older bundle of
// that name is moved aside first and removed after). A failure at any point
// removes the temporary folder, so the target is either the old bundle, the
// new one, or absent: never half written.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fail, q } from '../../ir/diagnostics.js';
import { encodeProgram as encodeNpu } from '../../backends/npu/binary.js';
import { encodeProgram as encodePnm } from '../../backends/cxl-pnm/binary.js';
import { printGraph } from '../../ir/printer.js';
import { VERSION } from '../api/version.js';
import type { MachineCode } from '../codegen/hetero.js';
import { opDepths } from '../api/verify.js';
import { describeHardware } from '../../runtime-sim/hardware/describe.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';
import { BUNDLE_SCHEMA, type BundleStep, type BundleTensor, type Manifest } from './manifest.js';
import { encodePim, PimParts } from './pim-codec.js';
import { planWeights, type WeightMode } from './weights.js';

export interface BundleMeta {
  model: string;
  hw: Hardware;
  dims: Record<string, number>;
  weights: WeightMode;
}

/** Step files are named by their index and op, e.g. npu/00012-h.0.attn.MatMul.pnpu. */
function stepFile(dir: string, i: number, name: string, ext: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 60);
  return `${dir}/${String(i).padStart(5, '0')}${safe ? `-${safe}` : ''}.${ext}`;
}

const typeOf = (op: { domain: string; type: string }) => (op.domain ? `${op.domain}.${op.type}` : op.type);

/** The files of a bundle, manifest.json last. `dir` is where it will live (for relative weight references). */
export function bundleFiles(code: MachineCode, meta: BundleMeta, dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const g = code.graph;
  const pimParts = new PimParts('pim/slots.bin');
  const steps: BundleStep[] = code.steps.map((s, i): BundleStep => {
    if (s.device === 'link') return { device: 'link', copies: s.copies.map((c) => ({ ...c })) };
    const base = { name: s.op.name, type: typeOf(s.op) };
    if (s.device === 'npu') {
      const file = stepFile('npu', i, s.op.name, 'pnpu');
      files.set(file, encodeNpu(s.program));
      return { device: 'npu', ...base, file };
    }
    if (s.device === 'pnm') {
      const file = stepFile('pnm', i, s.op.name, 'pnmp');
      files.set(file, encodePnm(s.program));
      return { device: 'pnm', ...base, file };
    }
    const file = stepFile('pim', i, s.op.name, 'json');
    files.set(file, json(encodePim(s.work, pimParts, file.slice(0, -5))));
    return { device: 'pim', ...base, file };
  });
  let pim: Manifest['pim'];
  if (code.pim) {
    files.set('pim/loads.json', json(encodePim(code.pim.loads, pimParts, 'pim/loads')));
    for (const [f, b] of pimParts.files) files.set(f, b);
    files.set(pimParts.slotsFile, pimParts.slots());
    pim = { loads: 'pim/loads.json', slots: pimParts.slotsFile, rows: code.pim.rows };
  }
  const weights = planWeights(g, code.dram.tensors, meta.weights, dir);
  if (weights.image.length) files.set('weights.bin', concat(weights.image));
  files.set('hardware.json', json(describeHardware(meta.hw)));
  files.set('model.pimir', new TextEncoder().encode(printGraph(g)));

  const depths = opDepths(g);
  const tensor = (v: (typeof g.inputs)[number], depth?: number): BundleTensor => ({
    name: v.name,
    dtype: v.type!.dtype,
    shape: [...code.dram.tensors.get(v)!.shape],
    dram: code.dram.tensors.get(v)!,
    ...(code.resident.has(v) ? { pnm: code.resident.get(v)! } : {}),
    ...(depth !== undefined ? { depth } : {}),
  });
  const placement: Record<string, number> = {};
  for (const op of g.ops) placement[op.device ?? 'npu'] = (placement[op.device ?? 'npu'] ?? 0) + 1;
  const manifest: Manifest = {
    schema: BUNDLE_SCHEMA,
    pimc: VERSION,
    model: meta.model,
    hardware: { name: meta.hw.name, file: 'hardware.json' },
    dims: meta.dims,
    placement,
    dramBytes: code.dram.bytes(),
    inputs: g.inputs.map((v) => tensor(v)),
    outputs: g.outputs.map((v) => tensor(v, depths.get(v) ?? 0)),
    weights: { mode: meta.weights, files: weights.files, tensors: weights.tensors },
    ...(pim ? { pim } : {}),
    steps,
    files: Object.fromEntries([...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([f, b]) => [f, { bytes: b.length, sha256: sha256(b) }])),
  };
  files.set('manifest.json', json(manifest));
  return files;
}

const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x, null, 1) + '\n');

export function sha256(b: Uint8Array): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** True when `dir` holds a bundle (so it may be replaced). */
function isBundle(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'manifest.json'));
}

/**
 * Writes `files` as the folder `dir`, atomically. An existing bundle there is
 * replaced; anything else that exists there is refused (PIMC1305).
 */
export function writeBundleFiles(dir: string, files: ReadonlyMap<string, Uint8Array>): void {
  const target = path.resolve(dir);
  if (fs.existsSync(target)) {
    const st = fs.statSync(target);
    if (!st.isDirectory() || (fs.readdirSync(target).length > 0 && !isBundle(target))) {
      fail('PIMC1305', `${q(dir)} exists and is not a pimc bundle; choose another -o or remove it`);
    }
  }
  const tmp = `${target}.tmp-${process.pid}`;
  const old = `${target}.old-${process.pid}`;
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const [name, bytes] of files) {
      const f = path.join(tmp, name);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, bytes);
    }
    const replacing = fs.existsSync(target);
    if (replacing) fs.renameSync(target, old);
    try {
      fs.renameSync(tmp, target);
    } catch (e) {
      if (replacing) fs.renameSync(old, target);
      throw e;
    }
    if (replacing) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    fail('PIMC0104', `cannot write bundle ${q(dir)}: ${(e as Error).message}`);
  }
}
