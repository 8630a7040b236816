// Op type -> its PNM lowering. Each family registers beside its definition;
// index.ts imports them all.

import { fail, q } from '../../../ir/diagnostics.js';
import type { PnmLowering } from './types.js';

const LOWERINGS = new Map<string, PnmLowering>();

const key = (domain: string, type: string) => (domain ? `${domain}::${type}` : type);

export function registerPnmLowering(domain: string, type: string, lower: PnmLowering): void {
  const k = key(domain, type);
  if (LOWERINGS.has(k)) throw new Error(`internal: PNM lowering of ${k} registered twice`);
  LOWERINGS.set(k, lower);
}

export function lookupPnmLowering(domain: string, type: string): PnmLowering | undefined {
  return LOWERINGS.get(key(domain, type));
}

export function pnmLoweringFor(domain: string, type: string, opName: string): PnmLowering {
  const l = lookupPnmLowering(domain, type);
  if (!l) fail('PIMC1206', `op ${q(opName)} (${key(domain, type)}) has no CXL-PNM lowering; place it on the NPU`);
  return l;
}

export function pnmLoweredOpTypes(): string[] {
  return [...LOWERINGS.keys()].sort();
}
