// Bad input never gets a stack trace: each problem is a coded one-line error
// naming the node or file, exit code 2, and no output file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli/main.js';
import { externalTensor, floatTensor, makeModel } from '../../tests/helpers/onnx-model.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-bad-'));
});

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
  return { code, out, err };
}

/** Imports `file` with -o and checks the coded one-line failure. */
async function expectImportError(file: string, code: string, mentions: string[]) {
  const outFile = path.join(dir, 'out.ir');
  const r = await cli(['import', file, '-o', outFile]);
  expect(r.code).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(new RegExp(`^${code}: `));
  for (const m of mentions) expect(r.err).toContain(m);
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(fs.existsSync(outFile)).toBe(false);
  expect(fs.readdirSync(dir).filter((f) => f.startsWith('.out.ir'))).toEqual([]);
}

function write(name: string, bytes: Uint8Array | string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
}

const addModel = (extra: Partial<Parameters<typeof makeModel>[0]> = {}) =>
  makeModel({
    inputs: [{ name: 'x', dims: [2] }],
    outputs: [{ name: 'y' }],
    initializers: [floatTensor('w', [2], [1, 2])],
    nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'], name: 'add' }],
    ...extra,
  });

describe('bad ONNX input', () => {
  it('a good model imports (control case)', async () => {
    const r = await cli(['import', write('m.onnx', addModel()), '-o', path.join(dir, 'out.ir')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'out.ir'), 'utf8')).toContain('= Add(%x, %w)');
  });

  it('a missing file', () => expectImportError(path.join(dir, 'nope.onnx'), 'PIMC0101', ['nope.onnx']));

  it('a truncated file', () => {
    const full = fs.readFileSync(path.resolve(__dirname, '../../examples/models/gpt2_decode/model.onnx'));
    return expectImportError(write('model.onnx', full.subarray(0, 4_000_000)), 'PIMC0102', ['model.onnx']);
  });

  it('bytes that are not ONNX', () => expectImportError(write('text.onnx', 'this is not a model at all, just text\n'.repeat(20)), 'PIMC0102', ['text.onnx']));

  it('an empty file', () => expectImportError(write('empty.onnx', new Uint8Array()), 'PIMC0102', ['empty.onnx']));

  it('a node using an undefined value', () =>
    expectImportError(
      write('m.onnx', addModel({ nodes: [{ op: 'Add', inputs: ['x', 'ghost'], outputs: ['y'], name: 'the_add' }] })),
      'PIMC0202',
      ['"the_add"', '"ghost"'],
    ));

  it('a cyclic graph', () =>
    expectImportError(
      write('m.onnx', addModel({
        nodes: [
          { op: 'Add', inputs: ['x', 'b'], outputs: ['a'], name: 'first' },
          { op: 'Relu', inputs: ['a'], outputs: ['b'], name: 'second' },
          { op: 'Relu', inputs: ['a'], outputs: ['y'], name: 'third' },
        ],
      })),
      'PIMC0203',
      ['cycle'],
    ));

  it('an initializer whose data disagrees with its dims', () =>
    expectImportError(write('m.onnx', addModel({ initializers: [floatTensor('w', [3], [1, 2])] })), 'PIMC0204', ['"w"', '[3]']));

  it('a missing external-data file', () =>
    expectImportError(write('m.onnx', addModel({ initializers: [externalTensor('w', [2], 'weights.bin')] })), 'PIMC0301', ['"w"', 'weights.bin']));

  it('an external-data range past the end of the file', () => {
    write('weights.bin', new Uint8Array(6));
    return expectImportError(write('m.onnx', addModel({ initializers: [externalTensor('w', [2], 'weights.bin')] })), 'PIMC0303', ['"w"']);
  });

  it('an external-data path that leaves the folder with ..', () => {
    const inner = path.join(dir, 'model');
    fs.mkdirSync(inner);
    write('secret.bin', new Uint8Array(8));
    fs.writeFileSync(path.join(inner, 'm.onnx'), addModel({ initializers: [externalTensor('w', [2], '../secret.bin')] }));
    return expectImportError(path.join(inner, 'm.onnx'), 'PIMC0302', ['"w"', '../secret.bin']);
  });

  it('an absolute external-data path', () =>
    expectImportError(write('m.onnx', addModel({ initializers: [externalTensor('w', [2], path.join(dir, 'w.bin'))] })), 'PIMC0302', ['absolute']));

  it('an external-data link that points out of the folder', () => {
    const inner = path.join(dir, 'model');
    fs.mkdirSync(inner);
    write('secret.bin', new Uint8Array(8));
    fs.symlinkSync(path.join(dir, 'secret.bin'), path.join(inner, 'w.bin'));
    fs.writeFileSync(path.join(inner, 'm.onnx'), addModel({ initializers: [externalTensor('w', [2], 'w.bin')] }));
    return expectImportError(path.join(inner, 'm.onnx'), 'PIMC0302', ['link']);
  });

  it('unknown ops: all of them in one error, with node names', () =>
    expectImportError(
      write('m.onnx', addModel({
        nodes: [
          { op: 'FancyOp', inputs: ['x'], outputs: ['a'], name: 'fancy_1' },
          { op: 'Add', inputs: ['a', 'w'], outputs: ['b'], name: 'ok_add' },
          { op: 'OtherOp', inputs: ['b'], outputs: ['y'], name: 'other_2' },
        ],
      })),
      'PIMC0201',
      ['FancyOp (node "fancy_1")', 'OtherOp (node "other_2")', '2 unsupported ops'],
    ));

  it('an op at an opset it does not support', () =>
    expectImportError(write('m.onnx', addModel({ opset: 99 })), 'PIMC0201', ['opset 99']));

  it('external data inside the folder is read lazily and correctly', async () => {
    write('w.bin', new Uint8Array(new Float32Array([0, 0, 5, 7]).buffer));
    const m = write('m.onnx', addModel({ initializers: [externalTensor('w', [2], 'w.bin', 8, 8)] }));
    const inputs = path.join(dir, 'data');
    fs.mkdirSync(inputs);
    const { encodeTensorFile } = await import('./tensor-proto.js');
    const { Tensor } = await import('../../ir/tensor.js');
    fs.writeFileSync(path.join(inputs, 'input_0.pb'), encodeTensorFile('x', Tensor.vector('f32', [1, 1])));
    fs.writeFileSync(path.join(inputs, 'output_0.pb'), encodeTensorFile('y', Tensor.vector('f32', [6, 8])));
    const r = await cli(['run', m, '--inputs', inputs, '--check']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('bad command lines', () => {
  it('an unknown command', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^PIMC0701: /);
  });

  it('a missing required option', async () => {
    const r = await cli(['run', 'x.onnx']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^PIMC0701: .*--inputs/);
  });

  it('an unknown stage', async () => {
    const r = await cli(['import', 'x.onnx', '--emit', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^PIMC0703: .*bogus/);
  });

  it('a bad tolerance', async () => {
    const r = await cli(['run', 'x.onnx', '--inputs', '.', '--atol', 'lots']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^PIMC0703: /);
  });
});
