// The binary form of an NPU program ("PNPU"), what `pimc asm` writes for a
// .npuasm file and the runtime loads. Little-endian throughout:
//
//   0   "PNPU"                      magic (4 bytes)
//   4   u32 version                 BINARY_VERSION
//   8   u32 engines                 E
//   12  u32 name bytes              L (UTF-8)
//   16  u32 x E                     instruction count of each engine
//   ..  name, zero-padded to a multiple of 4 bytes
//   ..  instructions, engine 0's first, INSTR_BYTES each (isa.ts)
//
// Decoding is strict (exact length, zero padding, well-formed UTF-8), so a
// decoded program re-encodes to the same bytes. Problems are PIMC1007 with
// the byte offset. No chevrotain here, so a runtime can load programs alone.

import { fail } from '../../ir/diagnostics.js';
import type { NpuProgram } from './instr.js';
import { decode, encode, INSTR_BYTES, INSTR_WORDS } from './isa.js';

export const NPU_MAGIC = 'PNPU';
export const BINARY_VERSION = 1;
/** Limits the header can state; larger values are refused rather than allocated. */
export const MAX_ENGINES = 1024;
export const MAX_NAME_BYTES = 4096;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const pad4 = (n: number) => (n + 3) & ~3;

export function encodeProgram(p: NpuProgram): Uint8Array {
  const name = utf8.encode(p.name);
  if (name.length > MAX_NAME_BYTES) throw new Error(`internal: NPU program name longer than ${MAX_NAME_BYTES} bytes`);
  if (p.engines.length > MAX_ENGINES) throw new Error(`internal: NPU program has more than ${MAX_ENGINES} engines`);
  const head = 16 + 4 * p.engines.length + pad4(name.length);
  const count = p.engines.reduce((n, e) => n + e.length, 0);
  const out = new Uint8Array(head + count * INSTR_BYTES);
  const dv = new DataView(out.buffer);
  out.set(utf8.encode(NPU_MAGIC), 0);
  dv.setUint32(4, BINARY_VERSION, true);
  dv.setUint32(8, p.engines.length, true);
  dv.setUint32(12, name.length, true);
  p.engines.forEach((e, i) => dv.setUint32(16 + 4 * i, e.length, true));
  out.set(name, 16 + 4 * p.engines.length);
  const words = new Uint32Array(INSTR_WORDS);
  let at = head;
  for (const list of p.engines) {
    for (const ins of list) {
      encode(ins, words);
      for (let w = 0; w < INSTR_WORDS; w++) dv.setUint32(at + 4 * w, words[w]!, true);
      at += INSTR_BYTES;
    }
  }
  return out;
}

export function decodeProgram(bytes: Uint8Array, where = 'NPU binary'): NpuProgram {
  const bad = (off: number, what: string): never => fail('PIMC1007', `malformed ${where} at byte offset ${off}: ${what}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 16) bad(0, `${bytes.length} bytes is shorter than the 16-byte header`);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== NPU_MAGIC) bad(0, `magic ${JSON.stringify(magic)} is not ${JSON.stringify(NPU_MAGIC)}: not an NPU program`);
  const version = dv.getUint32(4, true);
  if (version !== BINARY_VERSION) bad(4, `version ${version}; this pimc reads version ${BINARY_VERSION}`);
  const engines = dv.getUint32(8, true);
  if (engines > MAX_ENGINES) bad(8, `${engines} engines, more than ${MAX_ENGINES}`);
  const nameBytes = dv.getUint32(12, true);
  if (nameBytes > MAX_NAME_BYTES) bad(12, `name of ${nameBytes} bytes, more than ${MAX_NAME_BYTES}`);
  const nameAt = 16 + 4 * engines;
  const head = nameAt + pad4(nameBytes);
  if (bytes.length < head) bad(bytes.length, `truncated header: ${bytes.length} of ${head} bytes`);
  const counts = Array.from({ length: engines }, (_, i) => dv.getUint32(16 + 4 * i, true));
  const total = counts.reduce((n, c) => n + c, 0);
  const want = head + total * INSTR_BYTES;
  if (bytes.length !== want) bad(Math.min(bytes.length, want), `${bytes.length} bytes, but the header (${counts.join(', ')} instructions) says ${want}`);
  let name: string;
  try {
    name = strictUtf8.decode(bytes.subarray(nameAt, nameAt + nameBytes));
  } catch {
    return bad(nameAt, 'program name is not UTF-8');
  }
  for (let i = nameAt + nameBytes; i < head; i++) if (bytes[i]) bad(i, 'name padding is not zero');
  const words = new Uint32Array(total * INSTR_WORDS);
  for (let w = 0; w < words.length; w++) words[w] = dv.getUint32(head + 4 * w, true);
  let k = 0;
  const lists = counts.map((c) => Array.from({ length: c }, () => decode(words, INSTR_WORDS * k++, head)));
  return { name, engines: lists };
}
