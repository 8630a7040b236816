// Op type -> its NPU lowering. Each family registers beside its definition
// (matmul/, misc/); index.ts imports them all.

import { fail, q } from '../../../ir/diagnostics.js';
import type { Lowering } from './types.js';

const LOWERINGS = new Map<string, Lowering>();

const key = (domain: string, type: string) => (domain ? `${domain}::${type}` : type);

export function registerLowering(domain: string, type: string, lower: Lowering): void {
  const k = key(domain, type);
  if (LOWERINGS.has(k)) throw new Error(`internal: NPU lowering of ${k} registered twice`);
  LOWERINGS.set(k, lower);
}

/**
 * Replaces a lowering until the returned function is called: fault injection
 * for tests (a backend bug that verification must catch), never for products.
 */
export function overrideLowering(domain: string, type: string, lower: (original: Lowering) => Lowering): () => void {
  const k = key(domain, type);
  const original = LOWERINGS.get(k);
  if (!original) throw new Error(`internal: no NPU lowering of ${k} to override`);
  LOWERINGS.set(k, lower(original));
  return () => LOWERINGS.set(k, original);
}

export function lookupLowering(domain: string, type: string): Lowering | undefined {
  return LOWERINGS.get(key(domain, type));
}

export function loweringFor(domain: string, type: string, opName: string): Lowering {
  const l = lookupLowering(domain, type);
  if (!l) fail('PIMC0809', `op ${q(opName)} (${key(domain, type)}) has no NPU lowering`);
  return l;
}

export function loweredOpTypes(): string[] {
  return [...LOWERINGS.keys()].sort();
}
