#!/usr/bin/env node
// Benchmark: `pimc kernel gemv --m 4096 --n 4096 --hw hbm-pim-x4` as a whole
// process (functional and timing simulation of all 64 pseudo-channels, host
// side included), wall time median of N runs, against the reference
// simulator's 6.6 s for the same benchmark (HARDWARE.md 5; that simulator is
// not run here: its figure is the published measurement). Also the no-PIM
// baseline, and simulated commands per second.
// Usage: npm run build && node bench/kernel-gemv.mjs [runs]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const runs = Number(process.argv[2] ?? 5);
const REFERENCE_SECONDS = 6.6;

function measure(extra) {
  const walls = [];
  let doc;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [path.join(root, 'bin/pimc.js'), 'kernel', 'gemv', '--m', '4096', '--n', '4096', '--hw', 'hbm-pim-x4', '--json', ...extra], { encoding: 'utf8', maxBuffer: 1 << 26 });
    walls.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (r.status !== 0) throw new Error(`pimc kernel failed (${r.status}): ${r.stderr}`);
    doc = JSON.parse(r.stdout);
  }
  walls.sort((a, b) => a - b);
  return { wall: walls[Math.floor(runs / 2)], doc };
}

const pim = measure([]);
const host = measure(['--no-pim']);
const result = {
  runs,
  pim: { wallSeconds: pim.wall, cycles: pim.doc.cycles, simulatedCommands: pim.doc.simulatedCommands, inProcessMs: pim.doc.wallMs, commandsPerSecond: pim.doc.simulatedCommands / (pim.doc.wallMs / 1e3), bitExact: pim.doc.check.bitExact },
  noPim: { wallSeconds: host.wall, cycles: host.doc.cycles, simulatedCommands: host.doc.simulatedCommands },
  referenceSeconds: REFERENCE_SECONDS,
  speedupOverReference: REFERENCE_SECONDS / pim.wall,
};
console.log(`pimc kernel gemv --m 4096 --n 4096 --hw hbm-pim-x4 (whole process, median of ${runs})`);
console.log(`  with PIM: ${result.pim.wallSeconds.toFixed(3)} s wall, ${result.pim.cycles} cycles, ${result.pim.simulatedCommands} commands simulated, ${(result.pim.commandsPerSecond / 1e6).toFixed(2)} M commands/s in process`);
console.log(`  no PIM:   ${result.noPim.wallSeconds.toFixed(3)} s wall, ${result.noPim.cycles} cycles, ${result.noPim.simulatedCommands} commands`);
console.log(`  reference simulator: ${REFERENCE_SECONDS} s -> ${result.speedupOverReference.toFixed(1)}x faster`);
fs.mkdirSync(path.join(here, 'out'), { recursive: true });
fs.writeFileSync(path.join(here, 'out', 'kernel-gemv.json'), JSON.stringify(result, null, 2) + '\n');
