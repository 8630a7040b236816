// Symbolic dimensions as small polynomials over named sizes, so that shape
// inference can say `past + 1` for a KV cache that grows by one token, or
// `batch*seq` for a flattened activation, instead of giving up.
//
// A dim is a number or a canonical string: terms sorted (higher degree first,
// then by name), the constant last, e.g. "2*batch*seq + past + 1".

import type { Dim } from './types.js';

/** monomial ("" for the constant term, else sorted names joined by '*') -> coefficient */
type Poly = Map<string, number>;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isSymbolName(s: string): boolean {
  return IDENT.test(s);
}

/** Parsed polynomials by spelling: the same few dims recur on every value. */
const PARSED = new Map<string, Poly>();

function toPoly(d: Dim): Poly {
  if (typeof d === 'number') return new Map(d === 0 ? [] : [['', d]]);
  let p = PARSED.get(d);
  if (!p) {
    p = parsePoly(d);
    if (PARSED.size > 10_000) PARSED.clear();
    PARSED.set(d, p);
  }
  return new Map(p);
}

function fromPoly(p: Poly): Dim {
  const terms = [...p.entries()].filter(([, c]) => c !== 0);
  if (terms.length === 0) return 0;
  if (terms.length === 1 && terms[0]![0] === '') return terms[0]![1];
  terms.sort(([a], [b]) => {
    const da = a === '' ? 0 : a.split('*').length;
    const db = b === '' ? 0 : b.split('*').length;
    return db - da || (a < b ? -1 : a > b ? 1 : 0);
  });
  let s = '';
  terms.forEach(([m, c], i) => {
    const neg = c < 0;
    const abs = Math.abs(c);
    const body = m === '' ? String(abs) : abs === 1 ? m : `${abs}*${m}`;
    if (i === 0) s = neg ? `-${body}` : body;
    else s += neg ? ` - ${body}` : ` + ${body}`;
  });
  return s;
}

function addInto(p: Poly, m: string, c: number): void {
  const v = (p.get(m) ?? 0) + c;
  if (v === 0) p.delete(m);
  else p.set(m, v);
}

function mulMono(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return [...a.split('*'), ...b.split('*')].sort().join('*');
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const p = toPoly(a);
  for (const [m, c] of toPoly(b)) addInto(p, m, c);
  return fromPoly(p);
}

export function dimSub(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const p = toPoly(a);
  for (const [m, c] of toPoly(b)) addInto(p, m, -c);
  return fromPoly(p);
}

export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const pa = toPoly(a);
  const pb = toPoly(b);
  const p: Poly = new Map();
  for (const [ma, ca] of pa) for (const [mb, cb] of pb) addInto(p, mulMono(ma, mb), ca * cb);
  return fromPoly(p);
}

/** a / b when it divides exactly (as polynomials), else undefined. */
export function dimDivExact(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === 'number' && typeof b === 'number') return b !== 0 && a % b === 0 ? a / b : undefined;
  if (typeof b === 'number') {
    if (b === 0) return undefined;
    const p: Poly = new Map();
    for (const [m, c] of toPoly(a)) {
      if (c % b !== 0) return undefined;
      p.set(m, c / b);
    }
    return fromPoly(p);
  }
  // b is a single monomial times a constant: divide term by term
  const pb = toPoly(b);
  if (pb.size !== 1) return a === b ? 1 : undefined;
  const [[mb, cb]] = [...pb.entries()] as [[string, number]];
  const bNames = mb.split('*');
  const p: Poly = new Map();
  for (const [m, c] of toPoly(a)) {
    if (c % cb !== 0) return undefined;
    const names = m === '' ? [] : m.split('*');
    for (const n of bNames) {
      const i = names.indexOf(n);
      if (i < 0) return undefined;
      names.splice(i, 1);
    }
    addInto(p, names.join('*'), c / cb);
  }
  return fromPoly(p);
}

/** Product of dims. */
export function dimProduct(dims: readonly Dim[]): Dim {
  let acc: Dim = 1;
  for (const d of dims) acc = dimMul(acc, d);
  return acc;
}

/** The value of a dim once its symbols are bound, or undefined if some are not. */
export function evalDim(d: Dim, env: ReadonlyMap<string, number>): number | undefined {
  if (typeof d === 'number') return d;
  const direct = env.get(d);
  if (direct !== undefined) return direct;
  let total = 0;
  toPoly(d);
  for (const [m, c] of PARSED.get(d)!) {
    let v = c;
    if (m !== '') {
      for (const n of m.split('*')) {
        const x = env.get(n);
        if (x === undefined) return undefined;
        v *= x;
      }
    }
    total += v;
  }
  return total;
}

/** The symbol names a dim mentions. */
export function dimSymbols(d: Dim): string[] {
  if (typeof d === 'number') return [];
  const s = new Set<string>();
  for (const m of toPoly(d).keys()) if (m !== '') for (const n of m.split('*')) s.add(n);
  return [...s].sort();
}

/** Parses "2*a*b + c - 1" (also a bare name). Throws on anything else. */
export function parseDim(text: string): Dim {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return Number(t);
  return fromPoly(parsePoly(t));
}

function parsePoly(text: string): Poly {
  const p: Poly = new Map();
  if (IDENT.test(text)) {
    p.set(text, 1);
    return p;
  }
  const tokens = text.match(/[A-Za-z_][A-Za-z0-9_]*|\d+|[+\-*]|\S/g) ?? [];
  let i = 0;
  let sign = 1;
  let expectTerm = true;
  while (i < tokens.length) {
    const tok = tokens[i]!;
    if (expectTerm) {
      if (tok === '-') { sign = -sign; i++; continue; }
      if (tok === '+') { i++; continue; }
      let coef = 1;
      const names: string[] = [];
      for (;;) {
        const f = tokens[i];
        if (f === undefined) throw new Error(`bad dim expression ${JSON.stringify(text)}`);
        if (/^\d+$/.test(f)) coef *= Number(f);
        else if (IDENT.test(f)) names.push(f);
        else throw new Error(`bad dim expression ${JSON.stringify(text)}`);
        i++;
        if (tokens[i] === '*') { i++; continue; }
        break;
      }
      addInto(p, names.sort().join('*'), sign * coef);
      sign = 1;
      expectTerm = false;
    } else {
      if (tok === '+') sign = 1;
      else if (tok === '-') sign = -1;
      else throw new Error(`bad dim expression ${JSON.stringify(text)}`);
      i++;
      expectTerm = true;
    }
  }
  if (expectTerm) throw new Error(`bad dim expression ${JSON.stringify(text)}`);
  return p;
}
