// `pimc verify` and `pimc generate` on bad input: one coded line, exit 2, no stack trace.
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from './main.js';

const models = path.resolve(__dirname, '../../examples/models');
const gpt2 = path.join(models, 'gpt2_decode', 'model.onnx');
const data = path.join(models, 'gpt2_decode', 'test_data_set_0');

it.each([
  [['verify', 'no-such-model.onnx', '--inputs', data], /^PIMC0101: /],
  [['verify', gpt2, '--inputs', '/no/such/folder'], /^PIMC0101: /],
  [['verify', gpt2, '--inputs', data, '--hw', 'no-such-preset'], /^PIMC0801: /],
  [['verify', gpt2, '--inputs', data, '--hw', 'hbm-pim-x4'], /^PIMC0703: hardware "hbm-pim-x4" has no NPU to run a whole model/],
  [['verify', gpt2, '--inputs', data, '--placement', '/no/such/placement.json'], /^PIMC0807: /],
  [['generate', path.join(models, 'gpt2_dynamic_decode', 'model.onnx'), '--prompt-ids', '1,99999', '--steps', '1'], /^PIMC0603: index 99999 is out of range/],
  [['generate', gpt2, '--prompt-ids', 'a'], /^PIMC0703: --prompt-ids wants a non-negative integer/],
])('%j: a coded one-line error, exit 2', async (args, message) => {
  let err = '';
  const code = await runCli(args, { out: () => {}, err: (t) => (err += t), interactive: false });
  expect(code).toBe(2);
  expect(err.trim().split('\n')).toHaveLength(1);
  expect(err).toMatch(message);
});

it('--trace writes a Perfetto trace of the run with a thread per device', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-verify-trace-')), 'run.json');
  const code = await runCli(['verify', gpt2, '--inputs', data, '--hw', 'npu+hbm-pim', '--trace', file], { out: () => {}, err: () => {}, interactive: false });
  expect(code).toBe(0);
  const events = (JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: { name: string; pid: number; args?: { name?: string } }[] }).traceEvents;
  expect(events.filter((e) => e.name === 'thread_name' && e.pid === 1).map((e) => e.args!.name)).toEqual(expect.arrayContaining(['npu', 'pim']));
});
