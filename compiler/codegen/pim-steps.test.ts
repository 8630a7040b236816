// Cache batches' templates are built once and moved by rows: the moved
// streams are byte for byte the streams built for the other region.
import { describe, expect, it } from 'vitest';
import { planAttention, type AttentionPlan } from '../../backends/hbm-pim/attention.js';
import { encodeStream } from '../../backends/hbm-pim/binary.js';
import { planGemv } from '../../backends/hbm-pim/gemv.js';
import { pimGeometry } from '../../backends/hbm-pim/geometry.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import { attentionTemplates, kvAppendTemplates, regionDelta, shiftedRows } from './pim-steps.js';

const g = pimGeometry(loadHardware('npu+hbm-pim'));

/** The plan of a region starting `by` rows further (as PimCodegen makes one per cache batch). */
const at = (p: AttentionPlan, by: number): AttentionPlan => ({
  ...p,
  heads: p.heads.map((h) => ({ ...h, k: planGemv(g, h.k.m, h.k.n, h.k.vectors, { pchs: h.k.pchs, rowBase: h.k.rowBase + by }), v: planGemv(g, h.v.m, h.v.n, h.v.vectors, { pchs: h.v.pchs, rowBase: h.v.rowBase + by }) })),
});

describe('templates moved by rows', () => {
  for (const [hq, hkv, skv, hd, by] of [[8, 2, 37, 64, 40], [4, 4, 130, 32, 8192 - 0 + 100], [32, 8, 20, 128, 2]] as const) {
    it(`hq ${hq}, hkv ${hkv}, ${skv} keys x ${hd}, a region ${by} rows further: the same bytes as built there`, () => {
      const p0 = planAttention(g, { hq, hkv, skv, hd });
      const p1 = at(p0, by);
      expect(regionDelta(p0, p1)).toBe(by);
      const same = (a: ReturnType<typeof attentionTemplates>, b: ReturnType<typeof attentionTemplates>) => {
        expect(a.length).toBe(b.length);
        a.forEach((t, i) => {
          const moved = shiftedRows(t, by);
          expect(moved.pchs).toEqual(b[i]!.pchs);
          expect(Buffer.from(encodeStream({ kind: 'stream', pch: 0, stream: moved.stream })).equals(Buffer.from(encodeStream({ kind: 'stream', pch: 0, stream: b[i]!.stream })))).toBe(true);
          expect(moved.slots.map((s) => [s.at, Array.from(s.map)])).toEqual(b[i]!.slots.map((s) => [s.at, Array.from(s.map)]));
        });
      };
      same(attentionTemplates(g, p0, 'scores'), attentionTemplates(g, p1, 'scores'));
      same(attentionTemplates(g, p0, 'context'), attentionTemplates(g, p1, 'context'));
      for (const role of ['k', 'v'] as const) same(kvAppendTemplates(g, p0, role, skv - 1, skv), kvAppendTemplates(g, p1, role, skv - 1, skv));
    });
  }

  it('a region whose matrices moved unevenly is not moved (built instead)', () => {
    const p0 = planAttention(g, { hq: 8, hkv: 2, skv: 37, hd: 64 });
    const p1 = at(p0, 40);
    const h = p1.heads[1]!;
    p1.heads[1] = { ...h, v: planGemv(g, h.v.m, h.v.n, h.v.vectors, { pchs: h.v.pchs, rowBase: h.v.rowBase + 2 }) };
    expect(regionDelta(p0, p1)).toBeUndefined();
  });
});
