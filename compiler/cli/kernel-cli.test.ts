// `pimc kernel` as scripts use it: --json (pimc.kernel/1), the attention
// kernel's phases, --trace, exit codes and coded errors with no file left behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './main.js';

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
  return { code, out, err };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-kernel-'));

describe('pimc kernel', () => {
  it('--json: a small GEMV, bit-exact and within the bound, with cycles and command counts', async () => {
    const r = await cli(['kernel', 'gemv', '--hw', 'hbm-pim-x4', '--m', '100', '--n', '300', '--bit-exact', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.schema).toBe('pimc.kernel/1');
    expect(doc.kernel).toBe('gemv 100x300');
    expect(doc.check).toMatchObject({ bitExact: true, mismatches: 0, withinBound: true });
    expect(doc.cycles).toBeGreaterThan(0);
    expect(doc.commands.RD).toBeGreaterThan(0);
    expect(doc.simulatedCommands).toBeGreaterThan(doc.commands.RD);
  });

  it('attention: phases add up to the cycles; GQA is bit-exact', async () => {
    const r = await cli(['kernel', 'attention', '--hw', 'hbm-pim-x4', '--heads', '6', '--kv-heads', '2', '--kv-len', '129', '--head-dim', '80', '--bit-exact', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.check).toMatchObject({ bitExact: true, withinBound: true });
    expect(doc.phases.append + doc.phases.scores + doc.phases.context).toBe(doc.cycles);
    expect(doc.phases.append).toBeGreaterThan(0);
  });

  it('--trace writes a Chrome trace of the pseudo-channels asked for, covering the whole kernel', async () => {
    const file = path.join(tmp(), 'k.json');
    const r = await cli(['kernel', 'attention', '--hw', 'hbm-pim-x4', '--heads', '4', '--kv-len', '17', '--head-dim', '64', '--trace', file, '--trace-pchs', '0,1', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    const trace = JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: Array<{ ph: string; pid: number; name: string; ts: number; dur?: number }> };
    const slices = trace.traceEvents.filter((e) => e.ph === 'X');
    expect(new Set(slices.map((e) => e.pid))).toEqual(new Set([0, 1]));
    const names = new Set(slices.map((e) => e.name));
    for (const n of ['ACT', 'RD', 'WR', 'PRE', 'KV_APPEND', 'MAC', 'READ_BACK']) expect(names).toContain(n);
    // the context phase's commands come after the scores phase's (cycles continue across phases)
    const end = Math.max(...slices.map((e) => e.ts + (e.dur ?? 0)));
    expect(end).toBeGreaterThan((doc.phases.append + doc.phases.scores) / 1000);
    expect(end).toBeLessThanOrEqual(doc.cycles / 1000 + 0.01);
  });

  it.each([
    [['kernel', 'conv', '--hw', 'hbm-pim-x4'], /^PIMC0701: unknown kernel "conv"/],
    [['kernel', 'gemv', '--hw', 'hbm-pim-x4', '--m', '8'], /^PIMC0701: kernel gemv needs --n/],
    [['kernel', 'gemv', '--hw', 'hbm-pim-x4', '--m', '0', '--n', '8'], /^PIMC0703: --m wants a positive integer/],
    [['kernel', 'add', '--hw', 'no-such-preset', '--size', '8'], /^PIMC0801: /],
    [['kernel', 'attention', '--hw', 'hbm-pim-x4', '--heads', '6', '--kv-heads', '4', '--kv-len', '8'], /^PIMC0703: 6 query heads do not split into groups over 4 KV heads/],
    [['kernel', 'attention', '--hw', 'hbm-pim-x4', '--kv-len', '8', '--no-pim'], /^PIMC0703: attention has no --no-pim baseline/],
    [['kernel', 'gemv', '--hw', 'npu', '--m', '8', '--n', '8'], /^PIMC0703: hardware "npu" has no HBM-PIM/],
  ])('bad input %j: one coded line, exit 2', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(message);
  });

  it('a bad --trace-pchs or --trace with --no-pim leaves no trace file', async () => {
    const file = path.join(tmp(), 'k.json');
    for (const extra of [['--trace-pchs', 'a'], ['--no-pim']]) {
      const r = await cli(['kernel', 'gemv', '--hw', 'hbm-pim-x4', '--m', '8', '--n', '8', '--trace', file, ...extra]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^PIMC0703: /);
      expect(fs.existsSync(file)).toBe(false);
    }
  });
});
