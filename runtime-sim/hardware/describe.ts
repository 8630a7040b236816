// A loaded hardware description written back as a description file: every
// field the schema knows, each number as { "value", "source" } with the
// source it was loaded with. Loading the result gives the same hardware
// (hardware.test.ts), so a bundle carries exactly what it was compiled for.

import { HARDWARE_SCHEMA, isSection, type SectionSpec } from './schema.js';
import type { Hardware } from './types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function describeHardware(hw: Hardware): { [k: string]: Json } {
  const walk = (spec: SectionSpec, data: Record<string, unknown>, at: string): { [k: string]: Json } => {
    const out: { [k: string]: Json } = {};
    for (const [k, s] of Object.entries(spec.section)) {
      const v = data[k];
      if (v === undefined) continue;
      const p = at + k;
      if (isSection(s)) out[k] = walk(s, v as Record<string, unknown>, `${p}.`);
      else {
        const source = hw.sources.get(p);
        out[k] = source !== undefined ? { value: v as Json, source } : (v as Json);
      }
    }
    return out;
  };
  return { $schema: 'pimc-hardware/1', ...walk(HARDWARE_SCHEMA, hw as unknown as Record<string, unknown>, '') };
}
