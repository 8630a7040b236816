// The HBM-PIM part of a bundle: a step's work (or the list of loads) as JSON,
// with the parts JSON cannot hold kept beside it.
//
// - A command stream (PchStream) becomes its own PIMS file (the binary
//   `pimc disasm` reads: docs/hbm-pim-asm.md), named in the JSON as
//   { "$pims": "pim/00042-1.pims" }.
// - A slot map (Int32Array: where run-time data goes in a stream's data
//   table) becomes a range of one little-endian int32 file, { "$i32": [at, n] }.
// - A GEMV plan keeps only what it is planned from (m, n, vectors,
//   pseudo-channels, first row), { "$gemv": [...] }; the reader plans it again
//   with the bundle's hardware, so the plan's row function comes back too.
// - Numbers JSON cannot write (an attention's -Infinity mask fill) become
//   { "$num": "-Infinity" }.
// Decoding checks every marker, so a hand-edited or truncated file is a coded
// error rather than a crash mid-simulation.

import { fail, q } from '../../ir/diagnostics.js';
import { decodeStream, encodeStream } from '../../backends/hbm-pim/binary.js';
import { planGemv, type GemvPlan } from '../../backends/hbm-pim/gemv.js';
import type { PimGeometry } from '../../backends/hbm-pim/geometry.js';
import type { PchStream } from '../../runtime-sim/hbm/stream.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Where encoded parts go: stream files, and one growing int32 table. */
export class PimParts {
  readonly files = new Map<string, Uint8Array>();
  private readonly ints: Int32Array[] = [];
  private intCount = 0;

  constructor(readonly slotsFile: string) {}

  addInts(a: Int32Array): [number, number] {
    const at = this.intCount;
    this.ints.push(a);
    this.intCount += a.length;
    return [at, a.length];
  }

  /** The int32 table, little-endian. */
  slots(): Uint8Array {
    const out = new Uint8Array(this.intCount * 4);
    const view = new DataView(out.buffer);
    let at = 0;
    for (const a of this.ints) for (let i = 0; i < a.length; i++, at += 4) view.setInt32(at, a[i]!, true);
    return out;
  }
}

const isStream = (x: object): x is PchStream => 'items' in x && 'data' in x && 'tags' in x && 'readbackBursts' in x;
const isGemvPlan = (x: object): x is GemvPlan => typeof (x as GemvPlan).resultRow === 'function';

/**
 * `x` as JSON; each stream goes to a file `${prefix}-${k}.pims` (k counting
 * from 0), each slot map into `parts`' int32 table.
 */
export function encodePim(x: unknown, parts: PimParts, prefix: string): Json {
  let k = 0;
  const streams = new Map<PchStream, string>();
  const enc = (v: unknown, pch: number): Json => {
    if (v === null) return null;
    if (typeof v === 'number') return Number.isFinite(v) ? v : { $num: String(v) };
    if (typeof v === 'string' || typeof v === 'boolean') return v;
    if (v instanceof Int32Array) return { $i32: parts.addInts(v) };
    if (Array.isArray(v)) return v.map((e) => enc(e, pch));
    if (typeof v !== 'object') throw new Error(`internal: cannot write a ${typeof v} into a bundle`);
    if (isStream(v)) {
      let file = streams.get(v);
      if (!file) {
        file = `${prefix}-${k++}.pims`;
        streams.set(v, file);
        parts.files.set(file, encodeStream({ kind: 'stream', pch, stream: v }));
      }
      return { $pims: file };
    }
    if (isGemvPlan(v)) return { $gemv: [v.m, v.n, v.vectors, v.pchs, v.rowBase] };
    // a template's stream is written as run by its first pseudo-channel
    const pchs = (v as { pchs?: unknown }).pchs;
    const first = Array.isArray(pchs) && typeof pchs[0] === 'number' ? pchs[0] : pch;
    const out: { [k: string]: Json } = {};
    for (const [key, e] of Object.entries(v)) if (e !== undefined) out[key] = enc(e, first);
    return out;
  };
  return enc(x, 0);
}

export interface PimSources {
  /** A file of the bundle (already checked against the manifest). */
  read(file: string): Uint8Array;
  /** The int32 table. */
  slots: Int32Array;
  geometry: PimGeometry;
  /** For messages: the file the JSON came from. */
  where: string;
}

/** Reads what encodePim wrote. Streams are decoded once per file. */
export function decodePim<T>(j: Json, src: PimSources): T {
  const streams = new Map<string, PchStream>();
  const bad = (what: string): never => fail('PIMC1303', `${q(src.where)}: ${what}`);
  const dec = (v: Json): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(dec);
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0]!.startsWith('$')) {
      const m = v[keys[0]!]!;
      switch (keys[0]) {
        case '$num':
          return m === 'Infinity' ? Infinity : m === '-Infinity' ? -Infinity : m === 'NaN' ? NaN : bad(`bad number ${JSON.stringify(m)}`);
        case '$i32': {
          if (!Array.isArray(m) || m.length !== 2 || !m.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) return bad('bad slot range');
          const [at, n] = m as [number, number];
          if (at + n > src.slots.length) return bad(`slot range ${at}+${n} outside the slot table of ${src.slots.length}`);
          return src.slots.subarray(at, at + n);
        }
        case '$pims': {
          if (typeof m !== 'string') return bad('bad stream reference');
          let s = streams.get(m);
          if (!s) {
            s = decodeStream(src.read(m), m).stream;
            streams.set(m, s);
          }
          return s;
        }
        case '$gemv': {
          if (!Array.isArray(m) || m.length !== 5 || !m.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) return bad('bad GEMV plan');
          const [rows, cols, vectors, pchs, rowBase] = m as number[];
          if (pchs! < 1 || pchs! > src.geometry.pch || rowBase! % 2 !== 0) return bad(`GEMV plan on ${pchs} pseudo-channels from row ${rowBase} does not fit the hardware`);
          return planGemv(src.geometry, rows!, cols!, vectors!, { pchs: pchs!, rowBase: rowBase! });
        }
        default:
          return bad(`unknown marker ${q(keys[0]!)}`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, e] of Object.entries(v)) out[key] = dec(e);
    return out;
  };
  return dec(j) as T;
}

/** The int32 table of a bundle from its little-endian bytes. */
export function slotsFrom(bytes: Uint8Array, where: string): Int32Array {
  if (bytes.length % 4 !== 0) fail('PIMC1303', `${q(where)} has ${bytes.length} bytes, not a whole number of int32 slots`);
  const out = new Int32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}
