// `pimc analyze` as users run it: the table, --json, --svg, --explain,
// --placement, --emit-ir, and coded errors for bad hardware and placements.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/main.js';

const models = path.resolve(__dirname, '../../examples/models');
const decode = path.join(models, 'llama_dynamic_decode/model.onnx');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-analyze-'));

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
  return { code, out, err };
}

describe('pimc analyze', () => {
  it('prints a table per batch with the baselines and the speed-up over npu', async () => {
    const r = await cli(['analyze', decode, '--hw', 'npu+hbm-pim', '--batch', '1,4']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^batch\s+estimate\s+vs npu\s+all-npu\s+attacc\s+all-pim\s+ops npu\/pim$/m);
    expect(r.out).toMatch(/^1\s+[\d.]+ (us|ms)\s+[\d.]+x/m);
    expect(r.out).toMatch(/^4\s+[\d.]+ (us|ms)/m);
  });

  it('--json: per op name, kind, device, flops, bytes, intensity, seconds per device; totals; baselines', async () => {
    const r = await cli(['analyze', decode, '--hw', 'npu+hbm-pim+cxl-pnm', '--batch', '1,16', '--kv-len', '512', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.schema).toBe('pimc.analyze/1');
    expect(doc.hardware.devices).toEqual(['npu', 'pim', 'pnm']);
    expect(doc.scenarios).toHaveLength(2);
    const s = doc.scenarios[0];
    expect(s).toMatchObject({ phase: 'decode', batch: 1, kvLen: 512 });
    expect(s.baselines.map((b: { name: string }) => b.name)).toEqual(['all-npu', 'attacc', 'all-pim']);
    for (const b of s.baselines) expect(s.seconds).toBeLessThanOrEqual(b.seconds * (1 + 1e-12));
    const att = s.ops.find((o: { kind: string }) => o.kind === 'attention');
    expect(Object.keys(att.seconds).sort()).toEqual(['npu', 'pim', 'pnm']);
    expect(att.bytes.kv).toBeGreaterThan(0);
    expect(att.intensity).toBeGreaterThan(0);
    expect(typeof att.reason).toBe('string');
    const sum = s.ops.reduce((a: number, o: { seconds: Record<string, number>; device: string }) => a + o.seconds[o.device]!, 0);
    expect(sum).toBeCloseTo(s.computeSeconds, 12);
  });

  it('--svg draws the roofs and one point per op that computes', async () => {
    const dir = tmp();
    const r = await cli(['analyze', decode, '--hw', 'npu+hbm-pim', '--svg', path.join(dir, 'r.svg'), '--json']);
    const doc = JSON.parse(r.out);
    const svg = fs.readFileSync(path.join(dir, 'r.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    const computing = doc.scenarios[0].ops.filter((o: { flops: number }) => o.flops > 0).length;
    expect(svg.match(/<circle cx/g)!.length).toBe(computing + 2 /* legend */);
    expect(svg).toContain('fill="#d62728"'); // something on PIM
  });

  it('--explain gives a reason per op, --emit-ir prints the device on each op', async () => {
    const dir = tmp();
    const r = await cli(['analyze', decode, '--hw', 'npu+hbm-pim', '--explain', '--emit-ir', path.join(dir, 'p.ir')]);
    expect(r.out).toMatch(/only the NPU can run a norm op/);
    const ir = fs.readFileSync(path.join(dir, 'p.ir'), 'utf8');
    expect(ir).toMatch(/= pimc\.Attention\(.* on (pim|npu)$/m);
    expect(ir).toMatch(/ on npu$/m);
  });

  it('--placement pins ops, and rejects unknown ops and illegal devices with codes', async () => {
    const dir = tmp();
    const j = JSON.parse((await cli(['analyze', decode, '--hw', 'npu+hbm-pim', '--json'])).out);
    const att = j.scenarios[0].ops.find((o: { kind: string }) => o.kind === 'attention');
    const other = att.device === 'pim' ? 'npu' : 'pim';
    fs.writeFileSync(path.join(dir, 'pin.json'), JSON.stringify({ [att.name]: other }));
    const pinned = JSON.parse((await cli(['analyze', decode, '--hw', 'npu+hbm-pim', '--placement', path.join(dir, 'pin.json'), '--json'])).out);
    const att2 = pinned.scenarios[0].ops.find((o: { name: string }) => o.name === att.name);
    expect(att2.device).toBe(other);
    expect(att2.reason).toMatch(/pinned/);
    expect(pinned.scenarios[0].seconds).toBeGreaterThanOrEqual(j.scenarios[0].seconds);

    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ 'no/such/op': 'pim' }));
    let r = await cli(['analyze', decode, '--hw', 'npu+hbm-pim', '--placement', path.join(dir, 'bad.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^PIMC0808: .*"no\/such\/op"/);

    const norm = j.scenarios[0].ops.find((o: { kind: string }) => o.kind === 'norm');
    fs.writeFileSync(path.join(dir, 'illegal.json'), JSON.stringify({ [norm.name]: 'pim' }));
    r = await cli(['analyze', decode, '--hw', 'npu+hbm-pim', '--placement', path.join(dir, 'illegal.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^PIMC0809: .* on pim, which cannot run it/);

    fs.writeFileSync(path.join(dir, 'malformed.json'), '{"a": "gpu"}');
    r = await cli(['analyze', decode, '--hw', 'npu+hbm-pim', '--placement', path.join(dir, 'malformed.json')]);
    expect(r.err).toMatch(/^PIMC0807: /);
  });

  it('bad hardware, phase and dims are coded errors', async () => {
    const dir = tmp();
    let r = await cli(['analyze', decode, '--hw', 'npu+hbm-pim+quantum']);
    expect([r.code, r.err.slice(0, 9)]).toEqual([2, 'PIMC0801:']);
    fs.writeFileSync(path.join(dir, 'hw.json'), '{"extends": "npu", "name": "x", "npu": {"engines": -1}}');
    r = await cli(['analyze', decode, '--hw', path.join(dir, 'hw.json')]);
    expect(r.err).toMatch(/^PIMC0804: .*"npu.engines"/);
    r = await cli(['analyze', path.join(models, 'bert_encoder/model.onnx'), '--hw', 'npu', '--phase', 'decode']);
    expect(r.err).toMatch(/^PIMC0810: .*no decode phase/);
    r = await cli(['analyze', decode, '--hw', 'hbm-pim-x4']);
    expect(r.err).toMatch(/^PIMC0703: .*no NPU/);
  });
});
