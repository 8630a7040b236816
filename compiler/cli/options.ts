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
