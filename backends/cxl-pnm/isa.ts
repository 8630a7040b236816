// The CXL-PNM ISA (instr.ts) as a table: per opcode its number, its operand
// slots, flag bits and immediate. Encode / decode of descriptors and of
// tensor-table entries, the assembler (asm.ts) and the simulator's checks all
// interpret this table.
//
// Descriptor, DESCRIPTOR_BYTES = 16, four little-endian 32-bit words [ours]:
//   w0  bits 7:0 opcode, 15:8 flags, 31:16 out id
//   w1  bits 15:0 in0 id, 31:16 in1 id
//   w2  bits 15:0 in2 id, 31:16 reserved (zero)
//   w3  immediate: float32 bits (scale, epsilon, alpha) or an unsigned integer (position)
// Unused operand slots hold NO_TENSOR (0xffff); opcode 0 is invalid, so a
// zeroed queue slot never decodes as work.
//
// Tensor-table entry, ENTRY_BYTES = 40, ten little-endian words [ours]:
//   w0     bits 1:0 dtype (1 f16, 2 f32, 3 i32), 4:2 rank (1..4), 15:5
//          reserved, 31:16 address bits 47:32
//   w1     address bits 31:0 (bytes)
//   w2-w5  dims 0..3 (unsigned; zero past the rank)
//   w6-w9  strides 0..3 in elements (signed two's complement; zero past the rank)

import { fail } from '../../ir/diagnostics.js';
import { NO_TENSOR, type Descriptor, type PnmDtype, type PnmOp, type TensorEntry } from './instr.js';

export const DESCRIPTOR_BYTES = 16;
export const ENTRY_BYTES = 40;
export const MAX_RANK = 4;
/** Largest encodable byte address (48 bits); the device's capacity is the real limit (PIMC1201). */
export const MAX_ADDR = 2 ** 48 - 1;
/** Ids are 16-bit and 0xffff means "none". */
export const MAX_TABLE_ENTRIES = NO_TENSOR;

export type Engine = 'matrix' | 'vector' | 'move';
export type ImmKind = 'none' | 'f32' | 'u32';
export type Slot = 'in0' | 'in1' | 'in2';

export interface OpSpec {
  op: PnmOp;
  code: number;
  /** Which engine's peak bounds its compute time (runtime-sim/pnm/timing.ts). */
  engine: Engine;
  /** Operand names for in0, in1, in2 in order; fewer names leave later slots unused. */
  ins: readonly string[];
  /** The slots that may be NO_TENSOR. */
  optional: readonly Slot[];
  /** Flag names by bit (bit 0 first). */
  flags: readonly string[];
  imm: ImmKind;
  /** The immediate's name in text (`scale=0.125`). */
  immName?: string;
  /** True when the output must be float (compute ops); moves copy any dtype. */
  float: boolean;
}

export const ISA: readonly OpSpec[] = [
  { op: 'gemm', code: 0x01, engine: 'matrix', ins: ['a', 'b', 'bias'], optional: ['in2'], flags: [], imm: 'f32', immName: 'alpha', float: true },
  { op: 'attention', code: 0x02, engine: 'matrix', ins: ['q', 'k', 'v'], optional: [], flags: [], imm: 'f32', immName: 'scale', float: true },
  { op: 'softmax', code: 0x10, engine: 'vector', ins: ['x'], optional: [], flags: [], imm: 'none', float: true },
  { op: 'layernorm', code: 0x11, engine: 'vector', ins: ['x', 'gamma', 'beta'], optional: ['in2'], flags: [], imm: 'f32', immName: 'eps', float: true },
  { op: 'rmsnorm', code: 0x12, engine: 'vector', ins: ['x', 'gamma'], optional: [], flags: [], imm: 'f32', immName: 'eps', float: true },
  { op: 'gelu', code: 0x13, engine: 'vector', ins: ['x'], optional: [], flags: ['tanh'], imm: 'none', float: true },
  { op: 'silu', code: 0x14, engine: 'vector', ins: ['x'], optional: [], flags: [], imm: 'none', float: true },
  { op: 'swiglu', code: 0x15, engine: 'vector', ins: ['gate', 'up'], optional: [], flags: [], imm: 'none', float: true },
  { op: 'rope', code: 0x16, engine: 'vector', ins: ['x', 'cos', 'sin'], optional: [], flags: ['interleaved'], imm: 'none', float: true },
  { op: 'add', code: 0x20, engine: 'vector', ins: ['a', 'b'], optional: [], flags: [], imm: 'none', float: true },
  { op: 'mul', code: 0x21, engine: 'vector', ins: ['a', 'b'], optional: [], flags: [], imm: 'none', float: true },
  { op: 'kv_append', code: 0x30, engine: 'move', ins: ['new'], optional: [], flags: [], imm: 'u32', immName: 'pos', float: false },
  { op: 'copy', code: 0x31, engine: 'move', ins: ['x'], optional: [], flags: [], imm: 'none', float: false },
];

export const OP_SPEC: ReadonlyMap<PnmOp, OpSpec> = new Map(ISA.map((s) => [s.op, s]));
const BY_CODE = new Map(ISA.map((s) => [s.code, s]));
export const SLOTS: readonly Slot[] = ['in0', 'in1', 'in2'];

export const DTYPE_CODE: Record<PnmDtype, number> = { f16: 1, f32: 2, i32: 3 };
const DTYPE_OF: Record<number, PnmDtype> = { 1: 'f16', 2: 'f32', 3: 'i32' };

/** The flag bits an opcode defines. */
export const flagMask = (s: OpSpec): number => (1 << s.flags.length) - 1;

/** The operand ids a descriptor uses, with their names, in slot order (absent optional ones left out). */
export function operandsOf(d: Descriptor): { slot: Slot; name: string; id: number }[] {
  const spec = OP_SPEC.get(d.op)!;
  return spec.ins.map((name, i) => ({ slot: SLOTS[i]!, name, id: d[SLOTS[i]!] })).filter((o) => o.id !== NO_TENSOR);
}

// ---- validity -------------------------------------------------------------------------

const isU16 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff;
const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const isI32 = (v: number) => Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;
const f32 = new Float32Array(1);

/** Why `d` cannot be encoded as it stands, or undefined. (Ids are checked against the table by the simulator.) */
export function descriptorProblem(d: Descriptor): string | undefined {
  const spec = OP_SPEC.get(d.op);
  if (!spec) return `unknown opcode ${JSON.stringify(d.op)}`;
  if (!Number.isInteger(d.flags) || d.flags < 0 || d.flags & ~flagMask(spec)) {
    return `${d.op} flags ${d.flags} set bits it does not define (${spec.flags.length ? spec.flags.map((f, i) => `bit ${i} ${f}`).join(', ') : 'none'})`;
  }
  if (!isU16(d.out) || d.out === NO_TENSOR) return `${d.op} out id ${d.out} is not a tensor id (0..${NO_TENSOR - 1})`;
  for (let i = 0; i < 3; i++) {
    const slot = SLOTS[i]!, id = d[slot], name = spec.ins[i];
    if (!isU16(id)) return `${d.op} ${slot} id ${id} is not a 16-bit id`;
    if (name === undefined && id !== NO_TENSOR) return `${d.op} has no operand ${slot}, found id ${id}`;
    if (name !== undefined && id === NO_TENSOR && !spec.optional.includes(slot)) return `${d.op} needs operand ${slot} (${name})`;
  }
  if (spec.imm === 'none' && d.imm !== 0) return `${d.op} has no immediate, found ${d.imm}`;
  if (spec.imm === 'u32' && !isU32(d.imm)) return `${d.op} ${spec.immName} ${d.imm} is not an unsigned 32-bit integer`;
  if (spec.imm === 'f32') {
    f32[0] = d.imm;
    if (typeof d.imm !== 'number' || Number.isNaN(d.imm) || f32[0] !== d.imm) return `${d.op} ${spec.immName} ${d.imm} is not a float32 value (NaN is not allowed)`;
  }
  return undefined;
}

/** Why `e` cannot be encoded, or undefined. (Whether it fits the device is the simulator's PIMC1201.) */
export function entryProblem(e: TensorEntry): string | undefined {
  if (!(e.dtype in DTYPE_CODE)) return `unknown dtype ${JSON.stringify(e.dtype)}`;
  if (!Number.isInteger(e.addr) || e.addr < 0 || e.addr > MAX_ADDR) return `address ${e.addr} is not in 0..2^48-1`;
  const r = e.dims.length;
  if (r < 1 || r > MAX_RANK) return `rank ${r} is not 1..${MAX_RANK}`;
  if (e.strides.length !== r) return `${e.strides.length} strides for ${r} dims`;
  if (!e.dims.every(isU32)) return `dims [${e.dims.join(', ')}] are not unsigned 32-bit integers`;
  if (!e.strides.every(isI32)) return `strides [${e.strides.join(', ')}] are not signed 32-bit integers`;
  return undefined;
}

// ---- bytes ----------------------------------------------------------------------------

/** A descriptor into `out` at byte `at` (a fresh 16 bytes by default). A bad descriptor is its producer's bug. */
export function encodeDescriptor(d: Descriptor, out = new Uint8Array(DESCRIPTOR_BYTES), at = 0): Uint8Array {
  const p = descriptorProblem(d);
  if (p) throw new Error(`internal: cannot encode PNM descriptor: ${p}`);
  const spec = OP_SPEC.get(d.op)!;
  const v = new DataView(out.buffer, out.byteOffset + at, DESCRIPTOR_BYTES);
  v.setUint32(0, (spec.code | (d.flags << 8) | (d.out << 16)) >>> 0, true);
  v.setUint32(4, (d.in0 | (d.in1 << 16)) >>> 0, true);
  v.setUint32(8, d.in2, true);
  if (spec.imm === 'f32') v.setFloat32(12, d.imm, true);
  else v.setUint32(12, d.imm, true);
  return out;
}

const hex32 = (w: number): string => `0x${(w >>> 0).toString(16).padStart(8, '0')}`;

/**
 * The descriptor at byte `at` of `bytes`. Anything encode would not write is
 * PIMC1204 naming the descriptor's index and byte offset (`where` names the
 * queue, `byteBase` is the offset of bytes[0] in its file).
 */
export function decodeDescriptor(bytes: Uint8Array, at: number, index: number, where = 'queue', byteBase = 0): Descriptor {
  const bad = (word: number, what: string): never =>
    fail('PIMC1204', `malformed PNM descriptor ${index} of ${where} (word ${word}, byte offset ${byteBase + at + 4 * word}): ${what}; regenerate the program`);
  if (at + DESCRIPTOR_BYTES > bytes.length) bad(0, `truncated: ${Math.max(0, bytes.length - at)} of ${DESCRIPTOR_BYTES} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, DESCRIPTOR_BYTES);
  const w = [0, 1, 2, 3].map((i) => v.getUint32(4 * i, true));
  const spec = BY_CODE.get(w[0]! & 0xff);
  if (!spec) return bad(0, `unknown opcode 0x${(w[0]! & 0xff).toString(16)} in ${hex32(w[0]!)}`);
  const flags = (w[0]! >>> 8) & 0xff;
  if (flags & ~flagMask(spec)) bad(0, `${spec.op} defines flag bits ${flagMask(spec)}, found ${flags}`);
  if (w[2]! >>> 16) bad(2, `reserved bits 31:16 set in ${hex32(w[2]!)}`);
  const d: Descriptor = {
    op: spec.op, flags, out: w[0]! >>> 16, in0: w[1]! & 0xffff, in1: w[1]! >>> 16, in2: w[2]! & 0xffff,
    imm: spec.imm === 'f32' ? v.getFloat32(12, true) : w[3]!,
  };
  if (d.out === NO_TENSOR) bad(0, `${spec.op} has no output (out id 0xffff)`);
  SLOTS.forEach((slot, i) => {
    const name = spec.ins[i], word = i < 2 ? 1 : 2;
    if (name === undefined && d[slot] !== NO_TENSOR) bad(word, `${spec.op} has no operand ${slot}, found id ${d[slot]}`);
    if (name !== undefined && d[slot] === NO_TENSOR && !spec.optional.includes(slot)) bad(word, `${spec.op} needs operand ${slot} (${name})`);
  });
  if (spec.imm === 'none' && w[3]) bad(3, `${spec.op} has no immediate, found ${hex32(w[3]!)}`);
  if (spec.imm === 'f32' && Number.isNaN(d.imm)) bad(3, `${spec.op} ${spec.immName} is NaN (${hex32(w[3]!)})`);
  return d;
}

/** A table entry into `out` at byte `at`. */
export function encodeEntry(e: TensorEntry, out = new Uint8Array(ENTRY_BYTES), at = 0): Uint8Array {
  const p = entryProblem(e);
  if (p) throw new Error(`internal: cannot encode PNM tensor-table entry: ${p}`);
  const v = new DataView(out.buffer, out.byteOffset + at, ENTRY_BYTES);
  const hi = Math.floor(e.addr / 2 ** 32);
  v.setUint32(0, (DTYPE_CODE[e.dtype] | (e.dims.length << 2) | (hi << 16)) >>> 0, true);
  v.setUint32(4, e.addr % 2 ** 32, true);
  for (let i = 0; i < MAX_RANK; i++) {
    v.setUint32(8 + 4 * i, e.dims[i] ?? 0, true);
    v.setInt32(24 + 4 * i, e.strides[i] ?? 0, true);
  }
  return out;
}

/** The table entry at byte `at`; malformed is PIMC1204 naming the entry and byte offset. */
export function decodeEntry(bytes: Uint8Array, at: number, index: number, byteBase = 0): TensorEntry {
  const bad = (word: number, what: string): never =>
    fail('PIMC1204', `malformed PNM tensor-table entry ${index} (word ${word}, byte offset ${byteBase + at + 4 * word}): ${what}; regenerate the program`);
  if (at + ENTRY_BYTES > bytes.length) bad(0, `truncated: ${Math.max(0, bytes.length - at)} of ${ENTRY_BYTES} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, ENTRY_BYTES);
  const w0 = v.getUint32(0, true);
  const dtype = DTYPE_OF[w0 & 3];
  if (!dtype) bad(0, `dtype code 0 (1 f16, 2 f32, 3 i32)`);
  const rank = (w0 >>> 2) & 7;
  if (rank < 1 || rank > MAX_RANK) bad(0, `rank ${rank} is not 1..${MAX_RANK}`);
  if (w0 & 0xffe0) bad(0, `reserved bits 15:5 set in ${hex32(w0)}`);
  const dims: number[] = [], strides: number[] = [];
  for (let i = 0; i < MAX_RANK; i++) {
    const dim = v.getUint32(8 + 4 * i, true), stride = v.getInt32(24 + 4 * i, true);
    if (i < rank) {
      dims.push(dim);
      strides.push(stride);
    } else {
      if (dim) bad(2 + i, `dim ${i} is ${dim} past rank ${rank}, not 0`);
      if (stride) bad(6 + i, `stride ${i} is ${stride} past rank ${rank}, not 0`);
    }
  }
  return { addr: (w0 >>> 16) * 2 ** 32 + v.getUint32(4, true), dtype: dtype!, dims, strides };
}
