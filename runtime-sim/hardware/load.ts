// Loads a hardware description (a preset name or a JSON file), resolves
// `extends`, and validates it against the schema table. Every problem is a
// coded error naming the field, e.g. `PIMC0803: ... misses npu.clockGHz`.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail, q } from '../../ir/diagnostics.js';
import { HARDWARE_SCHEMA, isSection, type LeafSpec, type SectionSpec } from './schema.js';
import type { Hardware } from './types.js';

const PRESET_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'presets');
// Sources run from runtime-sim/hardware; the build copies nothing, so from dist/ look back at the sources.
const PRESET_DIRS = [PRESET_DIR, path.resolve(PRESET_DIR, '../../../../runtime-sim/hardware/presets')];

export function presetNames(): string[] {
  const dir = PRESET_DIRS.find((d) => fs.existsSync(d));
  return dir ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];
}

function presetFile(name: string): string | undefined {
  for (const d of PRESET_DIRS) {
    const f = path.join(d, `${name}.json`);
    if (fs.existsSync(f)) return f;
  }
  return undefined;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
const isObj = (j: Json | undefined): j is Obj => !!j && typeof j === 'object' && !Array.isArray(j);

/** A preset name, or a path to a JSON file. */
export function loadHardware(nameOrFile: string): Hardware {
  const raw = resolveDoc(nameOrFile, []);
  return validate(raw.doc, raw.file);
}

function readDoc(file: string): Obj {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return fail('PIMC0101', `hardware description ${q(file)} cannot be read`);
  }
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (e) {
    return fail('PIMC0802', `hardware description ${q(file)} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObj(doc)) fail('PIMC0802', `hardware description ${q(file)} must be a JSON object`);
  return doc;
}

function resolveDoc(ref: string, chain: string[], from?: string): { doc: Obj; file: string } {
  const preset = !ref.includes('/') && !ref.endsWith('.json') ? presetFile(ref) : undefined;
  const file = preset ?? path.resolve(from ? path.dirname(from) : process.cwd(), ref);
  if (!preset && !fs.existsSync(file)) {
    fail('PIMC0801', `unknown hardware ${q(ref)}: not a preset (${presetNames().join(', ')}) and no such file`);
  }
  if (chain.includes(file)) fail('PIMC0804', `hardware description ${q(file)} extends itself (through ${chain.map((c) => q(path.basename(c))).join(' -> ')})`);
  const doc = readDoc(file);
  const ext = doc.extends;
  delete doc.extends;
  if (ext === undefined) return { doc, file };
  if (typeof ext !== 'string') fail('PIMC0804', `field "extends" of ${q(file)} must be a preset name or file`);
  const base = resolveDoc(ext, [...chain, file], file);
  return { doc: merge(base.doc, doc), file };
}

/** Deep merge: objects merge, null removes, anything else replaces. */
function merge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isObj(v) && isObj(out[k]) && !('value' in v)) out[k] = merge(out[k] as Obj, v);
    else out[k] = v;
  }
  return out;
}

function validate(doc: Obj, file: string): Hardware {
  const sources = new Map<string, string>();
  const where = `hardware description ${q(path.basename(file))}`;
  const walk = (spec: SectionSpec, data: Obj, at: string, inherited: string | undefined): Obj => {
    const out: Obj = {};
    const source = typeof data.source === 'string' ? data.source : inherited;
    for (const k of Object.keys(data)) {
      if (k === 'source' || k === '$schema') continue;
      if (!(k in spec.section)) {
        fail('PIMC0805', `${where} has unknown field ${q(at + k)} (fields here: ${Object.keys(spec.section).join(', ')})`);
      }
    }
    for (const [k, s] of Object.entries(spec.section)) {
      const v = data[k];
      const p = at + k;
      if (v === undefined) {
        if (!s.optional) fail('PIMC0803', `${where} misses ${q(p)} (${s.doc})`);
        continue;
      }
      if (isSection(s)) {
        if (!isObj(v)) fail('PIMC0804', `${where}: ${q(p)} must be an object (${s.doc})`);
        out[k] = walk(s, v, `${p}.`, source);
      } else {
        out[k] = leaf(s, v, p, source);
      }
    }
    return out;
  };
  const leaf = (s: LeafSpec, v: Json, p: string, inherited: string | undefined): Json => {
    let value = v;
    let source = inherited;
    if (isObj(v)) {
      const extra = Object.keys(v).filter((k) => k !== 'value' && k !== 'source' && k !== 'unit');
      if (!('value' in v) || extra.length) fail('PIMC0804', `${where}: ${q(p)} must be a value or { "value", "source" }`);
      value = v.value!;
      if (typeof v.source === 'string') source = v.source;
    }
    const kindOk =
      (s.kind === 'int' && typeof value === 'number' && Number.isInteger(value)) ||
      (s.kind === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
      (s.kind === 'bool' && typeof value === 'boolean') ||
      (s.kind === 'string' && typeof value === 'string');
    if (!kindOk) fail('PIMC0804', `${where}: ${q(p)} must be ${s.kind === 'int' ? 'an integer' : `a ${s.kind}`}, got ${JSON.stringify(value)}`);
    if (typeof value === 'number') {
      if (s.min !== undefined && value < s.min) fail('PIMC0804', `${where}: ${q(p)} is ${value}, below ${s.min}${s.unit ? ' ' + s.unit : ''}`);
      if (s.max !== undefined && value > s.max) fail('PIMC0804', `${where}: ${q(p)} is ${value}, above ${s.max}`);
      if (!source) fail('PIMC0806', `${where}: ${q(p)} = ${value} has no source; write { "value": ${value}, "source": "..." } or a "source" for its section`);
    }
    if (s.oneOf && !s.oneOf.includes(value as string)) fail('PIMC0804', `${where}: ${q(p)} must be one of ${s.oneOf.join(', ')}`);
    if (source) sources.set(p, source);
    return value;
  };
  const hw = walk(HARDWARE_SCHEMA, doc, '', undefined) as unknown as Omit<Hardware, 'sources' | 'file'>;
  if (hw.pim && !hw.memory.hbm) fail('PIMC0804', `${where}: "pim" needs HBM ("memory.hbm")`);
  return { ...hw, sources, file } as Hardware;
}
