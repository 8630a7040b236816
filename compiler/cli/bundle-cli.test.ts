// `pimc compile` and `pimc simulate` from the command line: the bundle round
// trip with its exit codes, --emit listings, and bad input as one coded line
// with exit 2 and nothing written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './main.js';

const models = path.resolve(__dirname, '../../examples/models');
const gpt2 = path.join(models, 'gpt2_decode', 'model.onnx');
const data = path.join(models, 'gpt2_decode', 'test_data_set_0');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-bundle-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
  return { code, out, err };
}

describe('pimc compile / pimc simulate', () => {
  it('compiles a bundle and simulates it within tolerance of the test data (exit 0), JSON on request', async () => {
    const b = path.join(tmp, 'gpt2.bundle');
    const c = await cli(['compile', gpt2, '--hw', 'npu+hbm-pim', '--inputs', data, '-o', b]);
    expect(c.err).toBe('');
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/on pim/);
    const s = await cli(['simulate', b, '--inputs', data, '--json']);
    expect(s.code).toBe(0);
    const doc = JSON.parse(s.out) as { schema: string; ok: boolean; checks: unknown[]; seconds: number };
    expect(doc.schema).toBe('pimc.simulate/1');
    expect(doc.ok).toBe(true);
    expect(doc.checks.length).toBe(5);
    expect(doc.seconds).toBeGreaterThan(0);
  });

  it('exit 1 when the outputs differ from the test data beyond the tolerance', async () => {
    const b = path.join(tmp, 'gpt2-wrong.bundle');
    expect((await cli(['compile', gpt2, '--hw', 'npu', '--inputs', data, '-o', b])).code).toBe(0);
    // expected outputs of another run: the logits of different inputs
    const wrong = path.join(tmp, 'wrong-data');
    fs.mkdirSync(wrong);
    for (const f of fs.readdirSync(data)) fs.copyFileSync(path.join(data, f), path.join(wrong, f));
    const input0 = fs.readFileSync(path.join(data, 'input_0.pb'));
    const changed = Buffer.from(input0);
    // the token id (an int64 in the tensor's raw data, its last 8 bytes): another token
    changed[changed.length - 8] ^= 1;
    fs.writeFileSync(path.join(wrong, 'input_0.pb'), changed);
    const s = await cli(['simulate', b, '--inputs', wrong]);
    expect(s.out).toMatch(/FAILED/);
    expect(s.code).toBe(1);
  });

  it('--emit placed|npu|pim writes one stage as text', async () => {
    const placed = path.join(tmp, 'placed.ir');
    expect((await cli(['compile', gpt2, '--hw', 'npu+hbm-pim', '--inputs', data, '--emit', 'placed', '-o', placed])).code).toBe(0);
    expect(fs.readFileSync(placed, 'utf8')).toMatch(/ on pim/);
    const pim = path.join(tmp, 'streams.pimasm');
    expect((await cli(['compile', gpt2, '--hw', 'npu+hbm-pim', '--inputs', data, '--emit', 'pim', '-o', pim])).code).toBe(0);
    expect(fs.readFileSync(pim, 'utf8')).toMatch(/^# step \d+: .*\nstream pch \d+ \{/m);
    const npu = path.join(tmp, 'kernels.npuasm');
    expect((await cli(['compile', gpt2, '--hw', 'npu', '--inputs', data, '--emit', 'npu', '-o', npu])).code).toBe(0);
    expect(fs.readFileSync(npu, 'utf8')).toMatch(/^# step 0: /);
  });

  it('a model whose DRAM plan exceeds the hardware\'s memory: PIMC0811 at compile time, nothing written', async () => {
    const hw = path.join(tmp, 'small-memory.json');
    fs.writeFileSync(hw, JSON.stringify({ extends: 'npu', name: 'npu-1MiB', memory: { capacityGiB: { value: 0.002, source: 'test: a memory smaller than the model' } } }));
    const out = path.join(tmp, 'too-big.bundle');
    const r = await cli(['compile', gpt2, '--hw', hw, '--inputs', data, '-o', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^PIMC0811: the compiled model needs [\d.]+ GiB of NPU memory .* has 0\.0 GiB/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it.each([
    [['compile', gpt2, '--inputs', data, '--weights', 'some'], /^PIMC0703: --weights/],
    [['compile', gpt2, '--inputs', data, '--emit', 'asm'], /^PIMC0703: --emit/],
    [['compile', gpt2, '--batch', 'x'], /^PIMC0703: --batch/],
    [['compile', 'no-such.onnx'], /^PIMC0101: /],
    [['simulate', models, '--inputs', data], /^PIMC1301: /],
    [['simulate', '/no/such/bundle', '--inputs', data], /^PIMC1301: /],
  ])('%j: a coded one-line error, exit 2, nothing written', async (args, message) => {
    const out = path.join(tmp, `bad-${Math.random().toString(36).slice(2)}`);
    const r = await cli([...args, ...(args[0] === 'compile' ? ['-o', out] : [])]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(message);
    expect(fs.existsSync(out)).toBe(false);
  });
});
