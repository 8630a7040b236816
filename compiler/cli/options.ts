// Parsing option values into typed values, with coded errors.
import { fail, q } from '../../ir/diagnostics.js';

export function parsePositiveInt(flag: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) <= 0) fail('PIMC0703', `${flag} wants a positive integer, got ${q(v)}`);
  return Number(v);
}

export function parseNonNegativeInt(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) fail('PIMC0703', `${flag} wants a non-negative integer, got ${q(v)}`);
  return Number(v);
}

export function parseNumber(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) fail('PIMC0703', `${flag} wants a non-negative number, got ${q(v)}`);
  return n;
}

export function parseList(flag: string, v: string): string[] {
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) fail('PIMC0703', `${flag} wants a comma-separated list, got ${q(v)}`);
  return items;
}

/** --dims name=size,name=size */
export function parseDims(v: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of parseList('--dims', v)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\d+)$/.exec(item);
    if (!m) fail('PIMC0703', `--dims wants name=size pairs, got ${q(item)}`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}
