// Machine goldens (docs/goldens.md): every model of the tests on every
// hardware preset, simulated whole (placement: the optimum), its outputs as
// the machine computed them (FP16 values stored as float32, output_N.pb) and
// a summary (ops per device, simulated seconds, error against the test data)
// under tests/goldens/machine/<model>/<preset>/. `npm run goldens` rewrites
// them (update-goldens.ts), tests/machine-goldens.test.ts compares with them.
//
// Models: the bundled examples/models/* (test_data_set_0), and tiny builder
// models of each family, built into a temporary folder with fixed seeds (only
// their goldens are committed). With no output_N.pb beside a builder model's
// inputs, its error is measured against the reference interpreter.
//
// Algorithm of a comparison:
//   1. the same outputs (names, in order), the same shapes and dtypes;
//   2. every element bit-exact (a NaN equals any NaN): the simulator is
//      deterministic, so any change in numerics is a golden diff to review;
//   3. every summary field equal, except simulated seconds: within 1e-9 relative.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildModel, type BuildOptions } from '../../examples/builders/index.js';
import type { Tensor } from '../../ir/tensor.js';
import { writeFilesAtomic } from '../api/files.js';
import { verifyModel, type VerifyReport } from '../api/verify.js';
import { decodeTensorFile, encodeTensorFile } from '../frontend/tensor-proto.js';

export const MACHINE_PRESETS = ['npu', 'npu+hbm-pim', 'npu+hbm-pim+cxl-pnm'] as const;
export const SUMMARY_SCHEMA = 'pimc.machine-golden/1';
/** Relative tolerance of simulated seconds against the golden. */
export const SECONDS_RTOL = 1e-9;

type BuilderOptions = Omit<BuildOptions, 'outDir'>;
const fixed: BuilderOptions = { seed: 1, testSeed: 1, testBatch: 2, externalData: 'never', testData: true };
const phases = ['decode', 'prefill'] as const;

/** Builder models: every family, every phase it has; batch 2 so that prefill pads a row. Seeds fixed. */
export const BUILDER_MODELS: readonly { name: string; options: BuilderOptions }[] = [
  ...phases.map((phase) => ({ name: `gpt2-tiny_${phase}`, options: { preset: 'gpt2-tiny', phase } })),
  { name: 'bert-tiny_prefill', options: { preset: 'bert-tiny', phase: 'prefill' as const } },
  ...phases.map((phase) => ({ name: `llama-tiny_${phase}`, options: { preset: 'llama-tiny', phase } })),
  // opset 23: RMSNormalization, RotaryEmbedding and Attention as ONNX ops
  ...phases.map((phase) => ({ name: `llama-tiny_${phase}_opset23`, options: { preset: 'llama-tiny', phase, opset: 23 } })),
].map((m) => ({ name: `builder_${m.name}`, options: { ...m.options, ...fixed } }));

export interface MachineModel {
  name: string;
  /** Bundled: the model folder, relative to the package; builder: the build options. */
  source: string | BuilderOptions;
}

export function machineModels(root: string): MachineModel[] {
  const dir = path.join(root, 'examples', 'models');
  const bundled = fs.readdirSync(dir).filter((m) => fs.existsSync(path.join(dir, m, 'model.onnx'))).sort();
  return [
    ...bundled.map((m) => ({ name: m, source: `examples/models/${m}` })),
    ...BUILDER_MODELS.map((b) => ({ name: b.name, source: b.options })),
  ];
}

export const goldenRoot = (root: string): string => path.join(root, 'tests', 'goldens', 'machine');
export const goldenDir = (root: string, model: string, preset: string): string => path.join(goldenRoot(root), model, preset);

/** The model file and its inputs folder; builder models are built under `tmp`. */
export async function materialize(root: string, m: MachineModel, tmp: string): Promise<{ model: string; inputs: string }> {
  if (typeof m.source === 'string') return { model: path.join(root, m.source, 'model.onnx'), inputs: path.join(root, m.source, 'test_data_set_0') };
  const r = await buildModel({ ...m.source, outDir: path.join(tmp, m.name) });
  return { model: r.modelPath, inputs: r.testDataDir! };
}

export interface GoldenSummary {
  schema: string;
  model: string;
  source: string | BuilderOptions;
  hardware: string;
  placement: Record<string, number>;
  dims: Record<string, number>;
  ops: number;
  seconds: number;
  secondsByDevice: Record<string, number>;
  outputs: {
    file: string;
    name: string;
    shape: number[];
    against: string;
    /** null: not finite (a NaN or an infinity in the output). */
    maxAbsError: number | null;
    tolerance: number;
    ok: boolean;
  }[];
}

export interface MachineGolden {
  summary: GoldenSummary;
  outputs: { name: string; tensor: Tensor }[];
}

const sig = (x: number, digits: number): number => Number(x.toPrecision(digits));
const sorted = <T>(r: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));

/** Simulates a model on a preset (placement: the optimum) and verifies it against its test data. */
export function runMachine(m: MachineModel, files: { model: string; inputs: string }, hw: string): { golden: MachineGolden; report: VerifyReport } {
  const { report, sim } = verifyModel(files.model, { hw, inputs: files.inputs });
  const outputs = sim.graph.outputs.map((v) => ({ name: v.name, tensor: sim.outputs.get(v.name)! }));
  const summary: GoldenSummary = {
    schema: SUMMARY_SCHEMA,
    model: m.name,
    source: typeof m.source === 'string' ? `${m.source}/test_data_set_0` : m.source,
    hardware: hw,
    placement: sorted(report.placement),
    dims: sorted(report.dims),
    ops: report.ops,
    // 12 significant digits: far finer than the 1e-9 relative comparison, free of last-bit noise
    seconds: sig(report.seconds, 12),
    secondsByDevice: sorted(Object.fromEntries(Object.entries(report.secondsByDevice).map(([d, s]) => [d, sig(s, 12)]))),
    outputs: report.outputs.map((o, i) => ({
      file: `output_${i}.pb`,
      name: o.name,
      shape: o.shape,
      against: o.against,
      maxAbsError: Number.isFinite(o.maxAbsError) ? sig(o.maxAbsError, 6) : null,
      tolerance: sig(o.tolerance, 6),
      ok: o.ok,
    })),
  };
  return { golden: { summary, outputs }, report };
}

export function summaryText(s: GoldenSummary): string {
  // arrays of numbers (shapes) on one line
  return `${JSON.stringify(s, null, 2).replace(/\[\s+([-\d.e,\s]*?)\s+\]/g, (_, xs: string) => `[${xs.split(/,\s*/).join(', ')}]`)}\n`;
}

/** The files of a golden folder: summary.json and output_N.pb. */
export function goldenFiles(g: MachineGolden): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  g.summary.outputs.forEach((o, i) => files.set(o.file, encodeTensorFile(o.name, g.outputs[i]!.tensor)));
  files.set('summary.json', new TextEncoder().encode(summaryText(g.summary)));
  return files;
}

/** A stored golden, or undefined when its folder has no summary.json. */
export function readGolden(dir: string): MachineGolden | undefined {
  const file = path.join(dir, 'summary.json');
  if (!fs.existsSync(file)) return undefined;
  const summary = JSON.parse(fs.readFileSync(file, 'utf8')) as GoldenSummary;
  const outputs = summary.outputs.map((o) => {
    const f = path.join(dir, o.file);
    return fs.existsSync(f) ? decodeTensorFile(fs.readFileSync(f), f) : { name: `(missing ${o.file})`, tensor: undefined as unknown as Tensor };
  });
  return { summary, outputs };
}

export interface OutputDiff {
  name: string;
  /** Elements whose bits differ (NaN equals NaN), of `total`. */
  differing: number;
  total: number;
  /** Largest |golden - now| over the elements that are numbers on both sides. */
  maxAbsDiff: number;
  /** Elements that are NaN on one side only. */
  nanOnOneSide: number;
  /** Set when the outputs cannot be compared element by element. */
  problem?: string;
}

export interface GoldenDiff {
  outputs: OutputDiff[];
  /** Summary fields that differ: "placement.pim: 18 -> 16". */
  fields: string[];
}

export const isSame = (d: GoldenDiff): boolean => d.outputs.length === 0 && d.fields.length === 0;

const sameBits = (a: number, b: number): boolean => (a === b && (a !== 0 || 1 / a === 1 / b)) || (Number.isNaN(a) && Number.isNaN(b));

function diffOutput(name: string, want: Tensor | undefined, got: Tensor): OutputDiff | undefined {
  const whole = (problem: string): OutputDiff => ({ name, differing: got.size, total: got.size, maxAbsDiff: Infinity, nanOnOneSide: 0, problem });
  if (!want) return whole('file missing');
  if (want.dtype !== got.dtype || want.shape.join() !== got.shape.join()) {
    return whole(`${want.dtype}[${want.shape.join(', ')}] -> ${got.dtype}[${got.shape.join(', ')}]`);
  }
  let differing = 0;
  let maxAbsDiff = 0;
  let nanOnOneSide = 0;
  for (let i = 0; i < got.size; i++) {
    const a = Number(want.data[i]!), b = Number(got.data[i]!);
    if (sameBits(a, b)) continue;
    differing++;
    if (Number.isNaN(a) || Number.isNaN(b)) nanOnOneSide++;
    else maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
  }
  return differing ? { name, differing, total: got.size, maxAbsDiff, nanOnOneSide } : undefined;
}

function diffFields(want: unknown, got: unknown, at: string, out: string[]): void {
  if (typeof want === 'number' && typeof got === 'number' && /^seconds/.test(at)) {
    if (!(Math.abs(got - want) <= SECONDS_RTOL * Math.abs(want))) out.push(`${at}: ${want} -> ${got} (${((got - want) / want * 100).toPrecision(3)}%)`);
    return;
  }
  if (want && got && typeof want === 'object' && typeof got === 'object') {
    const keys = [...new Set([...Object.keys(want), ...Object.keys(got)])];
    for (const k of keys) diffFields((want as Record<string, unknown>)[k], (got as Record<string, unknown>)[k], at ? `${at}.${k}` : k, out);
    return;
  }
  if (want !== got) out.push(`${at}: ${JSON.stringify(want) ?? '(none)'} -> ${JSON.stringify(got) ?? '(none)'}`);
}

/** What differs between a stored golden and a fresh run (nothing: the same). */
export function compareGolden(want: MachineGolden, got: MachineGolden): GoldenDiff {
  const outputs: OutputDiff[] = [];
  const names = (g: MachineGolden) => g.summary.outputs.map((o) => o.name).join(', ');
  got.outputs.forEach((o, i) => {
    const w = want.outputs[i];
    const d = w && w.name === o.name ? diffOutput(o.name, w.tensor, o.tensor)
      : { name: o.name, differing: o.tensor.size, total: o.tensor.size, maxAbsDiff: Infinity, nanOnOneSide: 0, problem: `outputs were [${names(want)}], are [${names(got)}]` };
    if (d) outputs.push(d);
  });
  const fields: string[] = [];
  diffFields(want.summary, got.summary, '', fields);
  return { outputs, fields };
}

export function describeDiff(d: GoldenDiff): string {
  const parts = d.outputs.map((o) => o.problem ? `${o.name}: ${o.problem}`
    : `${o.name}: ${o.differing}/${o.total} elements differ, max |diff| ${o.maxAbsDiff.toPrecision(3)}${o.nanOnOneSide ? ` (and ${o.nanOnOneSide} NaN on one side only)` : ''}`);
  // the outputs' own fields (error against the test data) follow from the outputs; name them last
  return [...parts, ...d.fields.filter((f) => !f.startsWith('outputs.')), ...d.fields.filter((f) => f.startsWith('outputs.'))].join('; ');
}

export interface UpdateCounts { new: number; unchanged: number; changed: number; removed: number; failed: number; outsideTolerance: number }

/** Regenerates every machine golden, printing one line per model and preset. */
export async function updateMachineGoldens(root: string, log: (line: string) => void): Promise<UpdateCounts> {
  const counts: UpdateCounts = { new: 0, unchanged: 0, changed: 0, removed: 0, failed: 0, outsideTolerance: 0 };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-goldens-'));
  const kept = new Set<string>();
  try {
    for (const m of machineModels(root)) {
      let files: { model: string; inputs: string } | undefined;
      try {
        files = await materialize(root, m, tmp);
      } catch (e) {
        counts.failed += MACHINE_PRESETS.length;
        MACHINE_PRESETS.forEach((hw) => kept.add(path.join(m.name, hw)));
        log(`FAILED     ${m.name}: cannot build: ${(e as Error).message}`);
        continue;
      }
      for (const hw of MACHINE_PRESETS) {
        const where = `${m.name} / ${hw}`;
        kept.add(path.join(m.name, hw));
        const dir = goldenDir(root, m.name, hw);
        let fresh: MachineGolden;
        try {
          fresh = runMachine(m, files, hw).golden;
        } catch (e) {
          counts.failed++;
          log(`FAILED     ${where}: ${(e as Error).message} (golden left as it was)`);
          continue;
        }
        const old = readGolden(dir);
        const diff = old ? compareGolden(old, fresh) : undefined;
        const status = !old ? 'new' : isSame(diff!) ? 'unchanged' : 'changed';
        counts[status]++;
        if (status !== 'unchanged') {
          const written = goldenFiles(fresh);
          writeFilesAtomic(dir, written);
          for (const f of fs.readdirSync(dir)) if (!written.has(f)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
        }
        log(`${status.padEnd(10)} ${where}${status === 'changed' ? `: ${describeDiff(diff!)}` : ''}`);
        const outside = fresh.summary.outputs.filter((o) => !o.ok);
        if (outside.length) {
          counts.outsideTolerance++;
          log(`  WARNING  ${where}: outside the FP16 tolerance of its ${outside[0]!.against}: ${outside.map((o) => `${o.name} (max |error| ${o.maxAbsError ?? 'not finite'}, tolerance ${o.tolerance})`).join(', ')}`);
        }
      }
    }
    // goldens of models or presets that are gone
    const top = goldenRoot(root);
    const folders = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : []);
    for (const model of folders(top)) {
      for (const hw of folders(path.join(top, model))) {
        if (kept.has(path.join(model, hw))) continue;
        fs.rmSync(path.join(top, model, hw), { recursive: true, force: true });
        counts.removed++;
        log(`removed    ${model} / ${hw}`);
      }
      if (fs.readdirSync(path.join(top, model)).length === 0) fs.rmdirSync(path.join(top, model));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`machine goldens: ${counts.unchanged} unchanged, ${counts.changed} changed, ${counts.new} new, ${counts.removed} removed, ${counts.failed} failed` +
    (counts.outsideTolerance ? `; ${counts.outsideTolerance} outside the FP16 tolerance (see WARNING lines)` : ''));
  return counts;
}
