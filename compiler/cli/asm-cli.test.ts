// `pimc asm` / `pimc disasm` choose the target from the file name or the
// binary's magic (or --target): an NPU listing round-trips exactly, an
// HBM-PIM one still does, and a bad target is a coded error with no output.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from './main.js';

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
  return { code, out, err };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-asm-'));
const write = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};

const NPU = `program "copy"
engine 0:
  dma.load t0, spad[0x0]:f16[1,4,64] <- dram[0x1000]:f16[1,4,64]
  wait.dma t0
  vec.muls spad[0x0]:f16[1,4,64], spad[0x0]:f16[1,4,64], 0.5
  dma.store t1, dram[0x2000]:f16[1,4,64] <- spad[0x0]:f16[1,4,64]
  end
`;

it('an .npuasm listing assembles to a PNPU binary that disassembles to the same text', async () => {
  const bin = path.join(dir, 'k.bin');
  const a = await cli(['asm', write('k.npuasm', NPU), '-o', bin]);
  expect(a.err).toBe('');
  expect(a.code).toBe(0);
  expect(Buffer.from(fs.readFileSync(bin)).subarray(0, 4).toString('latin1')).toBe('PNPU');
  const d = await cli(['disasm', bin]);
  expect(d.code).toBe(0);
  expect(d.out).toBe(NPU);
});

it('--target npu reads a listing whatever its name; a wrong target is PIMC0703 and writes nothing', async () => {
  const bin = path.join(dir, 'k2.bin');
  expect((await cli(['asm', write('k.txt', NPU), '--target', 'npu', '-o', bin])).code).toBe(0);
  expect((await cli(['disasm', bin, '--target', 'npu'])).out).toBe(NPU);
  const out = path.join(dir, 'none.bin');
  const r = await cli(['asm', write('k3.txt', NPU), '--target', 'gpu', '-o', out]);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/^PIMC0703: --target must be one of hbm-pim, npu, cxl-pnm/);
  expect(fs.existsSync(out)).toBe(false);
});

it('an NPU listing read as HBM-PIM text fails with a coded parse error, not a crash', async () => {
  const r = await cli(['asm', write('k4.pimasm', NPU), '-o', path.join(dir, 'x.bin')]);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/^PIMC0909: /);
});

const PNM = `pnm "one" {
  %0 = f16[1, 4, 1, 8] strides [32, 8, 8, 1] at 0x0
  %1 = f16[1, 4, 1, 8] strides [32, 8, 8, 1] at 0x1000
  unit 0 {
    gelu.tanh %1, %0
  }
}
`;

it('a .pnmasm listing assembles to a PNMP binary that disassembles to the same text', async () => {
  const bin = path.join(dir, 'p.bin');
  const a = await cli(['asm', write('p.pnmasm', PNM), '-o', bin]);
  expect(a.err).toBe('');
  expect(Buffer.from(fs.readFileSync(bin)).subarray(0, 4).toString('latin1')).toBe('PNMP');
  const d = await cli(['disasm', bin]);
  expect(d.code).toBe(0);
  expect(d.out).toBe(PNM);
  const bad = await cli(['asm', write('q.pnmasm', PNM.replace('gelu.tanh', 'gelux')), '-o', path.join(dir, 'q.bin')]);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/^PIMC1205: /);
  expect(fs.existsSync(path.join(dir, 'q.bin'))).toBe(false);
});
