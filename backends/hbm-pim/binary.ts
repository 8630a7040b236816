// Binary forms of CRF programs ("PIMP") and pseudo-channel command streams
// ("PIMS"), the files `pimc asm` writes and `pimc disasm` reads. Layouts are in
// docs/hbm-pim-asm.md. Decoding is strict: any byte sequence the encoder would
// not produce (overlong varints, fields flagged present but at their default,
// stray instruction bits, trailing bytes) is refused, so decode -> encode is
// byte-identical whenever decode succeeds. Bad bytes give PIMC0910 with the
// byte offset (a reserved opcode gives PIMC0905), never another exception.
//
// This module avoids the assembler (chevrotain) so a runtime can load binaries
// without it.

import { fail, isPimcError, PimcError, q } from '../../ir/diagnostics.js';
import { isLoop, type Command, type CommandKind, type PchStream, type StreamItem } from '../../runtime-sim/hbm/stream.js';
import { CRF_ENTRIES, decode, encode, hex32, instrProblem, strayBits, type PimInstr } from './isa.js';

/** A named CRF program (one `program` of a .pimasm file). */
export interface CrfProgram {
  kind: 'program';
  name: string;
  instrs: PimInstr[];
}

/** The command stream of one pseudo-channel (one `stream` of a .pimasm file). */
export interface PchStreamUnit {
  kind: 'stream';
  pch: number;
  stream: PchStream;
}

export type PimAsmUnit = CrfProgram | PchStreamUnit;

export const PROGRAM_MAGIC = 'PIMP';
export const STREAM_MAGIC = 'PIMS';
export const BINARY_VERSION = 1;

/** Limits both forms share (the text form checks them too, so every parsed unit encodes). */
export const LIMITS = {
  /** Non-negative fields (bank, row, col, counts, pch). */
  maxUint: 0x7fffffff,
  maxLoopDepth: 16,
  maxDataBursts: 1 << 22,
  maxTags: 0xffff,
  maxNameBytes: 255,
} as const;

export const COMMAND_KINDS: readonly CommandKind[] = ['ACT', 'PRE', 'RD', 'WR', 'REF'];
const OP_END = 0x00, OP_LOOP = 0x06; // 0x01..0x05: COMMAND_KINDS
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const isUint = (v: number) => Number.isInteger(v) && v >= 0 && v <= LIMITS.maxUint;
const isInt32 = (v: number) => Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;

/** Why `name` cannot be a program name or tag, or undefined. */
export function nameProblem(name: string): string | undefined {
  if (LONE_SURROGATE.test(name)) return `${q(name)} is not well-formed Unicode`;
  if (utf8.encode(name).length > LIMITS.maxNameBytes) return `${q(name.slice(0, 40))}... is longer than ${LIMITS.maxNameBytes} bytes`;
  return undefined;
}

// ---- checks of in-memory units (bugs in a producer: PIMC0907 / PIMC0910) ---------

/** Refuses a stream the formats cannot hold: PIMC0907 naming the item. */
export function checkStream(s: PchStream, where = 'stream'): void {
  const bad = (what: string): never => fail('PIMC0907', `malformed command stream (${where}): ${what}`);
  if (s.data.length % 16) bad(`data has ${s.data.length} lanes, not whole bursts of 16`);
  if (s.data.length / 16 > LIMITS.maxDataBursts) bad(`data has more than ${LIMITS.maxDataBursts} bursts`);
  if (!isUint(s.readbackBursts)) bad(`readbackBursts ${s.readbackBursts} is not a count`);
  if (s.tags.length > LIMITS.maxTags) bad(`more than ${LIMITS.maxTags} tags`);
  const seen = new Set<string>();
  s.tags.forEach((t, i) => {
    const p = typeof t === 'string' ? nameProblem(t) : 'not a string';
    if (p) bad(`tag ${i}: ${p}`);
    if (seen.has(t)) bad(`tag ${q(t)} appears twice`);
    seen.add(t);
  });
  const walk = (items: readonly StreamItem[], path: string, depth: number) => {
    items.forEach((it, i) => {
      const at = `${path}${i}`;
      if (isLoop(it)) {
        if (depth >= LIMITS.maxLoopDepth) bad(`item ${at}: loops nest deeper than ${LIMITS.maxLoopDepth}`);
        if (!isUint(it.count)) bad(`item ${at}: loop count ${it.count} is not a count`);
        for (const k of ['row', 'col', 'data'] as const) if (!isInt32(it.step[k])) bad(`item ${at}: loop step ${k} ${it.step[k]} is not a 32-bit integer`);
        walk(it.body, `${at}.`, depth + 1);
        return;
      }
      const c = it as Command;
      if (!COMMAND_KINDS.includes(c.kind)) bad(`item ${at}: unknown command kind ${q(String(c.kind))}`);
      for (const k of ['bank', 'row', 'col'] as const) if (!isUint(c[k])) bad(`item ${at}: ${k} ${c[k]} is not a non-negative integer`);
      if (!Number.isInteger(c.data) || c.data < -1 || c.data > LIMITS.maxUint) bad(`item ${at}: data ${c.data} is not a burst index or -1`);
      if (!Number.isInteger(c.tag) || c.tag < -1 || c.tag >= s.tags.length) bad(`item ${at}: tag ${c.tag} is not an index into the ${s.tags.length} tags or -1`);
      if (!Number.isInteger(c.follow) || c.follow < 0 || c.follow > 7) bad(`item ${at}: follow ${c.follow} is not a set of FOLLOW_* bits`);
    });
  };
  walk(s.items, '', 0);
}

/** Refuses a program the formats cannot hold: PIMC0910 (a producer's bug or a bad file). */
export function checkProgram(p: CrfProgram): void {
  const np = nameProblem(p.name);
  if (np) fail('PIMC0910', `program name ${np}`);
  if (p.instrs.length > CRF_ENTRIES) fail('PIMC0910', `program ${q(p.name)} has ${p.instrs.length} instructions; the CRF holds ${CRF_ENTRIES}`);
  p.instrs.forEach((ins, i) => {
    const problem = instrProblem(ins);
    if (problem) fail('PIMC0910', `program ${q(p.name)} instruction ${i}: ${problem}`);
  });
}

// ---- writing ---------------------------------------------------------------------

class Writer {
  private buf = new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.u8(v & 0xff);
    this.u8((v >>> 8) & 0xff);
  }

  u32(v: number): void {
    this.u16(v & 0xffff);
    this.u16((v >>> 16) & 0xffff);
  }

  /** Unsigned LEB128, values up to 2^32 - 1. */
  varint(v: number): void {
    let x = v >>> 0;
    while (x >= 0x80) {
      this.u8((x & 0x7f) | 0x80);
      x >>>= 7;
    }
    this.u8(x);
  }

  zigzag(v: number): void {
    this.varint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const magicBytes = (m: string) => utf8.encode(m);

export function encodeProgram(p: CrfProgram): Uint8Array {
  checkProgram(p);
  const w = new Writer();
  const name = utf8.encode(p.name);
  w.bytes(magicBytes(PROGRAM_MAGIC));
  w.u16(BINARY_VERSION);
  w.u16(p.instrs.length);
  w.u16(name.length);
  w.u16(0);
  w.bytes(name);
  while (w.length % 4) w.u8(0); // words stay 4-byte aligned
  for (const ins of p.instrs) w.u32(encode(ins));
  return w.done();
}

export function encodeStream(u: PchStreamUnit): Uint8Array {
  const s = u.stream;
  checkStream(s, `pCH ${u.pch}`);
  if (!isUint(u.pch)) fail('PIMC0907', `malformed command stream: pCH ${u.pch} is not a non-negative integer`);
  const w = new Writer();
  w.bytes(magicBytes(STREAM_MAGIC));
  w.u16(BINARY_VERSION);
  w.u16(0);
  w.varint(u.pch);
  w.varint(s.readbackBursts);
  w.varint(s.tags.length);
  for (const t of s.tags) {
    const b = utf8.encode(t);
    w.varint(b.length);
    w.bytes(b);
  }
  w.varint(s.data.length / 16);
  for (const lane of s.data) w.u16(lane);
  const items = (list: readonly StreamItem[]) => {
    for (const it of list) {
      if (isLoop(it)) {
        w.u8(OP_LOOP);
        w.varint(it.count);
        const { row, col, data } = it.step;
        w.u8((row ? 1 : 0) | (col ? 2 : 0) | (data ? 4 : 0));
        for (const v of [row, col, data]) if (v) w.zigzag(v);
        items(it.body);
        w.u8(OP_END);
      } else {
        // Mask: follow in bits 0-2, then which fields differ from their defaults.
        w.u8(1 + COMMAND_KINDS.indexOf(it.kind));
        w.u8(it.follow | (it.bank ? 8 : 0) | (it.row ? 16 : 0) | (it.col ? 32 : 0) | (it.data !== -1 ? 64 : 0) | (it.tag !== -1 ? 128 : 0));
        for (const v of [it.bank, it.row, it.col]) if (v) w.varint(v);
        if (it.data !== -1) w.varint(it.data);
        if (it.tag !== -1) w.varint(it.tag);
      }
    }
  };
  items(s.items);
  w.u8(OP_END);
  return w.done();
}

// ---- reading ---------------------------------------------------------------------

class Reader {
  pos = 0;

  constructor(readonly b: Uint8Array, private readonly what: string) {}

  bad(what: string, at = this.pos): never {
    return fail('PIMC0910', `malformed ${this.what}: ${what} at byte ${at}`);
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.b.length) this.bad(`${what} runs past the end of the file (${this.b.length} bytes)`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.b[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.b[this.pos]! | (this.b[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    const lo = this.u16(what);
    return (lo + this.u16(what) * 0x10000) >>> 0;
  }

  varint(what: string, max = 0xffffffff): number {
    const start = this.pos;
    let v = 0;
    for (let i = 0; ; i++) {
      const byte = this.u8(what);
      v += (byte & 0x7f) * 2 ** (7 * i);
      if (!(byte & 0x80)) {
        if (i > 0 && byte === 0) this.bad(`overlong varint for ${what}`, start);
        break;
      }
      if (i === 4) this.bad(`varint for ${what} longer than 5 bytes`, start);
    }
    if (v > max) this.bad(`${what} ${v} exceeds ${max}`, start);
    return v;
  }

  zigzag(what: string): number {
    const z = this.varint(what);
    return z % 2 ? -(z + 1) / 2 : z / 2;
  }

  str(what: string): string {
    const at = this.pos;
    const n = this.varint(`${what} length`, LIMITS.maxNameBytes);
    this.need(n, what);
    const bytes = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return strictUtf8.decode(bytes);
    } catch {
      return this.bad(`${what} is not valid UTF-8`, at);
    }
  }

  magic(m: string): void {
    this.need(4, 'magic');
    const got = String.fromCharCode(...this.b.subarray(0, 4));
    if (got !== m) this.bad(`expected magic ${q(m)}, found ${q(got)}`, 0);
    this.pos = 4;
    const version = this.u16('version');
    if (version !== BINARY_VERSION) this.bad(`version ${version} is not supported (this pimc reads version ${BINARY_VERSION})`, 4);
  }

  end(): void {
    if (this.pos !== this.b.length) this.bad(`${this.b.length - this.pos} trailing byte(s)`);
  }
}

/** Runs a decoder with the contract that bad bytes only ever give a PimcError. */
function guarded<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isPimcError(e)) throw e;
    throw new PimcError('PIMC0910', `malformed ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function decodeProgram(bytes: Uint8Array, where = 'PIM program'): CrfProgram {
  return guarded(where, () => {
    const r = new Reader(bytes, where);
    r.magic(PROGRAM_MAGIC);
    const count = r.u16('word count');
    if (count > CRF_ENTRIES) r.bad(`${count} instructions; the CRF holds ${CRF_ENTRIES}`, 6);
    const nameLen = r.u16('name length');
    if (nameLen > LIMITS.maxNameBytes) r.bad(`name length ${nameLen} exceeds ${LIMITS.maxNameBytes}`, 8);
    if (r.u16('reserved') !== 0) r.bad('reserved header field is not zero', 10);
    r.need(nameLen, 'name');
    let name: string;
    try {
      name = strictUtf8.decode(bytes.subarray(r.pos, r.pos + nameLen));
    } catch {
      return r.bad('name is not valid UTF-8');
    }
    r.pos += nameLen;
    while (r.pos % 4) if (r.u8('padding') !== 0) r.bad('padding byte is not zero', r.pos - 1);
    const instrs: PimInstr[] = [];
    for (let i = 0; i < count; i++) {
      const at = r.pos;
      const word = r.u32(`word ${i}`);
      const stray = strayBits(word);
      if (stray) r.bad(`word ${i} ${hex32(word)} sets bits ${hex32(stray)} outside its opcode's fields`, at);
      instrs.push(decode(word, `${where} word ${i} (byte ${at})`));
    }
    r.end();
    return { kind: 'program', name, instrs };
  });
}

export function decodeStream(bytes: Uint8Array, where = 'PIM stream'): PchStreamUnit {
  return guarded(where, () => {
    const r = new Reader(bytes, where);
    r.magic(STREAM_MAGIC);
    if (r.u16('reserved') !== 0) r.bad('reserved header field is not zero', 6);
    const pch = r.varint('pCH', LIMITS.maxUint);
    const readbackBursts = r.varint('readback bursts', LIMITS.maxUint);
    const nTags = r.varint('tag count', LIMITS.maxTags);
    const tags: string[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < nTags; i++) {
      const at = r.pos;
      const t = r.str(`tag ${i}`);
      if (seen.has(t)) r.bad(`tag ${q(t)} appears twice`, at);
      if (LONE_SURROGATE.test(t)) r.bad(`tag ${i} is not well-formed Unicode`, at);
      seen.add(t);
      tags.push(t);
    }
    const bursts = r.varint('data burst count', LIMITS.maxDataBursts);
    r.need(bursts * 32, `data table of ${bursts} bursts`);
    const data = new Uint16Array(bursts * 16);
    for (let i = 0; i < data.length; i++) data[i] = r.u16('data');
    const items = (depth: number): StreamItem[] => {
      const out: StreamItem[] = [];
      for (;;) {
        const at = r.pos;
        const op = r.u8('item');
        if (op === OP_END) return out;
        if (op === OP_LOOP) {
          if (depth >= LIMITS.maxLoopDepth) r.bad(`loops nest deeper than ${LIMITS.maxLoopDepth}`, at);
          const count = r.varint('loop count', LIMITS.maxUint);
          const maskAt = r.pos;
          const mask = r.u8('loop step mask');
          if (mask > 7) r.bad(`loop step mask ${mask} has unknown bits`, maskAt);
          const step = { row: 0, col: 0, data: 0 };
          for (const [bit, k] of [[1, 'row'], [2, 'col'], [4, 'data']] as const) {
            if (!(mask & bit)) continue;
            const vAt = r.pos;
            const v = r.zigzag(`loop step ${k}`);
            if (v === 0 || !isInt32(v)) r.bad(`loop step ${k} ${v} is zero or not a 32-bit integer`, vAt);
            step[k] = v;
          }
          out.push({ kind: 'LOOP', count, step, body: items(depth + 1) });
          continue;
        }
        const kind = COMMAND_KINDS[op - 1];
        if (!kind) r.bad(`unknown item code 0x${op.toString(16)}`, at);
        const mask = r.u8('command field mask');
        const opt = (bit: number, what: string, dflt: number, max = LIMITS.maxUint): number => {
          if (!(mask & bit)) return dflt;
          const vAt = r.pos;
          const v = r.varint(what, max);
          if (v === dflt) r.bad(`${what} is flagged present but holds its default ${dflt}`, vAt);
          return v;
        };
        const bank = opt(8, 'bank', 0), row = opt(16, 'row', 0), col = opt(32, 'col', 0);
        const data = opt(64, 'data', -1);
        const tagAt = r.pos;
        const tag = opt(128, 'tag', -1);
        if (tag >= tags.length) r.bad(`tag ${tag} is not one of the ${tags.length} tags`, tagAt);
        out.push({ kind, bank, row, col, data, tag, follow: mask & 7 });
      }
    };
    const list = items(0);
    r.end();
    return { kind: 'stream', pch, stream: { items: list, data, tags, readbackBursts } };
  });
}

/** Which binary a file holds, by its magic; undefined for neither. */
export function binaryKind(bytes: Uint8Array): 'program' | 'stream' | undefined {
  const m = String.fromCharCode(...bytes.subarray(0, 4));
  return m === PROGRAM_MAGIC ? 'program' : m === STREAM_MAGIC ? 'stream' : undefined;
}

export function encodeUnit(u: PimAsmUnit): Uint8Array {
  return u.kind === 'program' ? encodeProgram(u) : encodeStream(u);
}

export function decodeUnit(bytes: Uint8Array, where = 'PIM binary'): PimAsmUnit {
  const kind = binaryKind(bytes);
  if (kind === 'program') return decodeProgram(bytes, where);
  if (kind === 'stream') return decodeStream(bytes, where);
  return fail('PIMC0910', `malformed ${where}: not a pimc PIM binary (expected magic ${q(PROGRAM_MAGIC)} or ${q(STREAM_MAGIC)} at byte 0)`);
}
