// The textual form of a graph (docs/ir-text.md). Printing is deterministic and
// exact: parseGraph(printGraph(g)) prints back to the same text, and every
// float is written with the fewest digits that still read back to the same
// stored value, so a printed graph can be a golden file.

import { parseDim } from './dimexpr.js';
import { roundBf16, roundF16, type DType } from './dtype.js';
import type { AttrValue, ConstantData, Graph, Op, Value } from './graph.js';
import { sizeOf, type Tensor } from './tensor.js';
import type { Dim, TensorType } from './types.js';

export interface PrintOptions {
  /** Constants with more elements than this print as a file reference or `elided` (default 16). */
  elideAbove?: number;
}

const BARE_NAME = /^[A-Za-z0-9_.]+$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function printGraph(g: Graph, opts: PrintOptions = {}): string {
  const elideAbove = opts.elideAbove ?? 16;
  const lines: string[] = [`graph ${JSON.stringify(g.name)} {`];
  const opsets = [...g.opsets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [domain, version] of opsets) lines.push(`  opset ${JSON.stringify(domain)} ${formatInt(version)}`);
  for (const v of g.inputs) lines.push(`  input ${formatResult(v)}`);
  for (const v of g.constants) lines.push(`  const ${formatResult(v)} = ${formatConstBody(v, elideAbove)}`);
  for (const op of g.ops) lines.push(`  ${formatOp(op)}`);
  if (g.outputs.length > 0) lines.push(`  output ${g.outputs.map((v) => formatRef(v.name)).join(', ')}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** `%name`, quoted as a JSON string unless the name is plain. */
export function formatRef(name: string): string {
  return '%' + (BARE_NAME.test(name) ? name : JSON.stringify(name));
}

/** A dim prints bare when it reads back as itself; anything else (not from dimexpr) is quoted. */
function formatDim(d: Dim): string {
  if (typeof d === 'number') return formatInt(d);
  let back: Dim | undefined;
  try {
    back = parseDim(d);
  } catch {
    back = undefined;
  }
  return back === d ? d : JSON.stringify(d);
}

export function formatTensorType(t: TensorType): string {
  return `${t.dtype}[${t.shape.map(formatDim).join(', ')}]`;
}

/** `%name` or `%name : type` (a value without a type prints just its name). */
function formatResult(v: Value): string {
  const t = v.constant ? { dtype: v.constant.dtype, shape: v.constant.shape } : v.type;
  return t ? `${formatRef(v.name)} : ${formatTensorType(t)}` : formatRef(v.name);
}

function formatConstBody(v: Value, elideAbove: number): string {
  const data = v.constant as ConstantData;
  if (sizeOf(data.shape) <= elideAbove && data.available) {
    // A small file-backed constant whose file has gone still prints: as the reference.
    let t: Tensor | undefined;
    try {
      t = data.get();
    } catch {
      t = undefined;
    }
    if (t) return `dense ${formatElements(t)}`;
  }
  const src = data.source;
  if (src.kind === 'file') return `file ${JSON.stringify(src.path)} offset ${formatInt(src.offset)} length ${formatInt(src.length)}`;
  return 'elided';
}

function formatOp(op: Op): string {
  const outs = op.outputs.map(formatResult).join(', ');
  const type = op.domain ? `${op.domain}.${op.type}` : op.type;
  const ins = op.inputs.map((v) => (v ? formatRef(v.name) : 'none')).join(', ');
  let s = `${outs} = ${type}(${ins})`;
  if (op.attrs.size > 0) {
    const names = [...op.attrs.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    s += ` {${names.map((n) => `${IDENT.test(n) ? n : JSON.stringify(n)} = ${formatAttr(op.attrs.get(n)!)}`).join(', ')}}`;
  }
  s += ` name ${JSON.stringify(op.name)}`;
  if (op.device !== undefined) s += ` on ${IDENT.test(op.device) ? op.device : JSON.stringify(op.device)}`;
  return s;
}

export function formatAttr(a: AttrValue): string {
  switch (a.kind) {
    case 'int': return formatInt(a.value);
    // ONNX float attributes are float32: print the shortest text that reads back to that float32.
    case 'float': return formatFloat(a.value, 'f32');
    case 'string': return JSON.stringify(a.value);
    case 'ints': return a.value.length ? `[${a.value.map(formatInt).join(', ')}]` : 'ints[]';
    case 'floats': return a.value.length ? `[${a.value.map((x) => formatFloat(x, 'f32')).join(', ')}]` : 'floats[]';
    case 'strings': return a.value.length ? `[${a.value.map((x) => JSON.stringify(x)).join(', ')}]` : 'strings[]';
    case 'tensor': return `tensor ${formatTensorType(a.value)} dense ${formatElements(a.value)}`;
  }
}

/** `[e0, e1, ...]` in the dtype's literal form. */
function formatElements(t: Tensor): string {
  const parts = new Array<string>(t.size);
  const d = t.data;
  for (let i = 0; i < parts.length; i++) {
    const x = d[i]!;
    if (t.dtype === 'bool') parts[i] = x ? 'true' : 'false';
    else if (t.dtype === 'f32' || t.dtype === 'f16' || t.dtype === 'bf16' || t.dtype === 'f64') parts[i] = formatFloat(x, t.dtype);
    else parts[i] = formatInt(x);
  }
  return `[${parts.join(', ')}]`;
}

/** Integers in full (no exponent: i64 values up to 2^63 keep every digit). */
export function formatInt(x: number): string {
  return Number.isInteger(x) ? BigInt(x).toString() : String(x);
}

const ROUND: Record<'f32' | 'f16' | 'bf16', (x: number) => number> = { f32: Math.fround, f16: roundF16, bf16: roundBf16 };

/**
 * A float that can never be mistaken for an int (`1.0`, `1e-05`, `inf`, `nan`, `-0.0`).
 * f32/f16/bf16: the shortest decimal that rounds back to the same value in that format;
 * f64: JavaScript's own shortest round-trip form.
 */
export function formatFloat(x: number, dtype: DType): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  if (dtype === 'f64' || !(dtype in ROUND)) return withPoint(String(x));
  const round = ROUND[dtype as 'f32' | 'f16' | 'bf16'];
  const target = round(x);
  if (!Number.isFinite(target)) return target > 0 ? 'inf' : '-inf';
  let p = 1;
  while (p < 17 && round(Number(target.toPrecision(p))) !== target) p++;
  return pythonStyle(target.toExponential(p - 1));
}

function withPoint(s: string): string {
  return /[.e]/.test(s) ? s : s + '.0';
}

/**
 * Lays out "d.ddde±x" the way Python's repr does: positional for exponents in
 * [-4, 16), else a two-digit exponent (`1e-05`, `3.4028235e+38`).
 */
function pythonStyle(expo: string): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(expo)!;
  const sign = m[1]!;
  const digits = (m[2]! + (m[3] ?? '')).replace(/0+$/, '') || '0';
  const e = Number(m[4]);
  if (e < -4 || e >= 16) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const intPart = digits.slice(0, e + 1).padEnd(e + 1, '0');
  const frac = digits.slice(e + 1);
  return `${sign}${intPart}.${frac || '0'}`;
}
