// A whole PNM program (instr.ts PnmProgram) as bytes: what a bundle stores and
// what `pimc asm` writes. Layout [ours, docs/cxl-pnm.md], little-endian words:
//   0   magic "PNMP" (0x504d4e50 as a word)
//   4   version (1)
//   8   name length in UTF-8 bytes
//   12  table entries
//   16  queues
//   20  one word per queue: its descriptor count
//   ..  the name, zero-padded to a multiple of 4 bytes
//   ..  the table: ENTRY_BYTES per entry, the bytes the host writes to the device
//   ..  the queues, one after another: DESCRIPTOR_BYTES per descriptor
// Malformed bytes are PIMC1204 naming the byte offset.

import { fail } from '../../ir/diagnostics.js';
import type { PnmProgram } from './instr.js';
import { decodeDescriptor, decodeEntry, DESCRIPTOR_BYTES, encodeDescriptor, encodeEntry, ENTRY_BYTES, MAX_TABLE_ENTRIES } from './isa.js';

export const PROGRAM_MAGIC = 0x504d4e50;
export const PROGRAM_VERSION = 1;
const HEADER_BYTES = 20;
/** Guards against absurd counts in corrupt files before anything is allocated. */
const MAX_QUEUES = 4096;

const pad4 = (n: number) => (n + 3) & ~3;

export function encodeProgram(p: PnmProgram): Uint8Array {
  const name = new TextEncoder().encode(p.name);
  const descs = p.queues.reduce((n, q) => n + q.length, 0);
  const size = HEADER_BYTES + 4 * p.queues.length + pad4(name.length) + ENTRY_BYTES * p.table.length + DESCRIPTOR_BYTES * descs;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  [PROGRAM_MAGIC, PROGRAM_VERSION, name.length, p.table.length, p.queues.length].forEach((w, i) => v.setUint32(4 * i, w, true));
  p.queues.forEach((q, i) => v.setUint32(HEADER_BYTES + 4 * i, q.length, true));
  let at = HEADER_BYTES + 4 * p.queues.length;
  out.set(name, at);
  at += pad4(name.length);
  for (const e of p.table) {
    encodeEntry(e, out, at);
    at += ENTRY_BYTES;
  }
  for (const q of p.queues) {
    for (const d of q) {
      encodeDescriptor(d, out, at);
      at += DESCRIPTOR_BYTES;
    }
  }
  return out;
}

export function decodeProgram(bytes: Uint8Array, where = 'PNM program'): PnmProgram {
  const bad = (at: number, what: string): never => fail('PIMC1204', `malformed ${where} at byte offset ${at}: ${what}`);
  if (bytes.length < HEADER_BYTES) bad(0, `truncated header: ${bytes.length} of ${HEADER_BYTES} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (at: number) => v.getUint32(at, true);
  if (word(0) !== PROGRAM_MAGIC) bad(0, `not a PNM program (magic 0x${word(0).toString(16)})`);
  if (word(4) !== PROGRAM_VERSION) bad(4, `version ${word(4)}; this build reads ${PROGRAM_VERSION}`);
  const [nameLen, entries, queues] = [word(8), word(12), word(16)];
  if (entries > MAX_TABLE_ENTRIES) bad(12, `${entries} table entries; ids are 16-bit (at most ${MAX_TABLE_ENTRIES})`);
  if (queues > MAX_QUEUES) bad(16, `${queues} queues`);
  if (bytes.length < HEADER_BYTES + 4 * queues) bad(HEADER_BYTES, 'truncated queue lengths');
  const lengths = Array.from({ length: queues }, (_, i) => word(HEADER_BYTES + 4 * i));
  let at = HEADER_BYTES + 4 * queues;
  const total = at + pad4(nameLen) + ENTRY_BYTES * entries + DESCRIPTOR_BYTES * lengths.reduce((a, b) => a + b, 0);
  if (bytes.length !== total) bad(Math.min(bytes.length, total), `${bytes.length} bytes; the header describes ${total}`);
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at, at + nameLen));
  } catch {
    return bad(at, 'the name is not UTF-8');
  }
  at += pad4(nameLen);
  const table = Array.from({ length: entries }, (_, i) => decodeEntry(bytes, at + ENTRY_BYTES * i, i, 0));
  at += ENTRY_BYTES * entries;
  const qs = lengths.map((n, u) => {
    const q = Array.from({ length: n }, (_, i) => decodeDescriptor(bytes, at + DESCRIPTOR_BYTES * i, i, `the queue of unit ${u}`));
    at += DESCRIPTOR_BYTES * n;
    return q;
  });
  return { name, table, queues: qs };
}
