// `pimc conformance` as scripts use it: the summary line, --json, exit codes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../cli/main.js';

const root = path.resolve(__dirname, '../../tests/onnx-node');

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
  return { code, out, err };
}

it('ends with "N passed, M failed, K skipped" and exits 0 when nothing fails', async () => {
  const r = await cli(['conformance', root]);
  expect(r.code).toBe(0);
  const last = r.out.trim().split('\n').at(-1)!;
  expect(last).toMatch(/^\d+ passed, 0 failed, 8 skipped$/);
});

it('--json prints one document and the summary on stderr', async () => {
  const r = await cli(['conformance', root, '--json']);
  const doc = JSON.parse(r.out);
  expect(doc.schema).toBe('pimc.conformance/1');
  expect(doc.cases.length).toBe(doc.passed + doc.failed + doc.skipped);
  expect(doc.cases.find((c: { name: string }) => c.name === 'test_identity_opt').reason).toMatch(/optional/);
  expect(r.err).toMatch(/passed, 0 failed, 8 skipped\n$/);
});

it('a case whose expected output is wrong fails, and the exit code says so', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-conf-'));
  fs.cpSync(path.join(root, 'test_relu'), path.join(dir, 'test_relu'), { recursive: true });
  fs.cpSync(path.join(root, 'test_add'), path.join(dir, 'test_add'), { recursive: true });
  // expected output of test_relu replaced by test_add's (same shape, other values)
  fs.copyFileSync(path.join(root, 'test_add/test_data_set_0/output_0.pb'), path.join(dir, 'test_relu/test_data_set_0/output_0.pb'));
  const r = await cli(['conformance', dir]);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/^FAIL test_relu: /m);
  expect(r.out.trim().split('\n').at(-1)).toBe('1 passed, 1 failed, 0 skipped');
});
