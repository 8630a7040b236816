// runSystem runs the channel engine once per distinct stream and replays its
// column events into the other pseudo-channels' data paths; timeSystem times
// each distinct stream once without data. Both against the plain way: every
// pseudo-channel through the engine with its own data path.
import { describe, expect, it } from 'vitest';
import { planGemv, gemvStream, layoutGemvWeights } from '../../backends/hbm-pim/gemv.js';
import { pimGeometry } from '../../backends/hbm-pim/geometry.js';
import { loadHardware } from '../hardware/load.js';
import { runChannel } from './channel.js';
import { f16, f16BitsOf } from './fp16.js';
import { PimDatapath } from './pim-datapath.js';
import { newStores, runSystem, timeSystem } from './pim-system.js';

const hw = loadHardware('npu+hbm-pim');
const g = pimGeometry(hw);

function values(count: number, seed: number): Uint16Array {
  let s = seed >>> 0 || 1;
  return Uint16Array.from({ length: count }, () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return f16BitsOf(f16(((s >>> 0) % 2048 - 1024) / 1024));
  });
}

describe('runSystem and timeSystem against every pseudo-channel run on its own', () => {
  // a GEMV over 4 pseudo-channels (one stream for all), long enough to see refreshes
  const [m, n] = [200, 1000];
  const plan = planGemv(g, m, n, 3, { pchs: 4 });
  const w = values(m * n, 5);
  const stream = gemvStream(g, plan, values(3 * n, 7));
  const streams = [undefined, stream, stream, undefined, stream, stream];

  it('runSystem: the same read-backs, stats, commands and triggers as one engine per pseudo-channel', () => {
    const stores = newStores(streams.length, g.banks);
    const plain = newStores(streams.length, g.banks);
    layoutGemvWeights(g, plan, w, [1, 2, 4, 5].map((p) => stores[p]!));
    layoutGemvWeights(g, plan, w, [1, 2, 4, 5].map((p) => plain[p]!));
    const sys = runSystem(streams, stores, { hw });
    streams.forEach((s, p) => {
      if (!s) return expect(sys.readbacks[p]!.length).toBe(0);
      const path = new PimDatapath({ pch: p, pcus: hw.pim!.pcusPerPseudoChannel, crfEntries: hw.pim!.crfEntries, stream: s, store: plain[p]! });
      const stats = runChannel(s, path, { hw, pch: p, refresh: true });
      expect(sys.perPch[p]).toEqual(stats);
      expect(sys.readbacks[p]).toEqual(path.readback);
      expect(sys.readbacks[p]!.some((b) => b !== 0)).toBe(true);
    });
    expect(sys.perPch[1]!.commands.REF).toBeGreaterThan(0);
    const t = timeSystem(streams, streams.length, { hw });
    expect(t.cycles).toBe(sys.cycles);
    expect(t.commands).toEqual(sys.commands);
    expect(t.triggers).toBe(sys.triggers);
    expect(t.perPch).toEqual(sys.perPch);
  });

  it('a traced pseudo-channel still runs the engine (its trace events are all there)', () => {
    const kinds: string[] = [];
    const stores = newStores(streams.length, g.banks);
    const sys = runSystem(streams, stores, { hw, trace: { pchs: [2], sink: (e) => kinds.push(e.kind) } });
    const c = sys.perPch[2]!.commands;
    expect(kinds.length).toBe(c.ACT + c.PRE + c.RD + c.WR + c.REF);
  });
});
