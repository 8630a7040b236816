// Textual-IR tests: a file holds a way to produce IR and CHECK lines that the
// printed IR must satisfy. Only the lines that matter are checked, so the
// tests survive unrelated changes (LLVM's FileCheck, much reduced).
//
// Directives (in `#` comments):
//   # MODEL: path/to/model.onnx       the IR of this model (path relative to the package root)
//   # STAGE: fused                     ... at this stage (default fused)
//   # PASSES: fuse-linear,dce          or: the file's own IR text, through these passes
//   # CHECK: text                      the next line containing text, after the previous match
//   # CHECK-NEXT: text                 ... and it must be the very next line
//   # CHECK-NOT: text                  no line containing text between the previous and next match
//   # CHECK-COUNT-n: text              exactly n lines of the whole output contain text
// In a pattern, {{regex}} matches a regular expression; the rest is literal.

import fs from 'node:fs';
import path from 'node:path';
import { parseGraph } from '../../ir/parser.js';
import { printGraph } from '../../ir/printer.js';
import { checkStage, loadModel } from '../api/model.js';
import { inferShapes } from '../passes/infer-shapes.js';
import { runPasses } from '../passes/manager.js';
import { pipeline } from '../passes/pipelines.js';

interface Directive {
  kind: 'CHECK' | 'CHECK-NEXT' | 'CHECK-NOT' | 'CHECK-COUNT';
  count?: number;
  pattern: RegExp;
  text: string;
  line: number;
}

function compile(pattern: string): RegExp {
  const parts = pattern.split(/(\{\{.*?\}\})/);
  const src = parts.map((p) => (p.startsWith('{{') && p.endsWith('}}') ? `(?:${p.slice(2, -2)})` : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(src);
}

export function parseDirectives(text: string): { model?: string; stage?: string; passes?: string[]; checks: Directive[] } {
  const out: { model?: string; stage?: string; passes?: string[]; checks: Directive[] } = { checks: [] };
  text.split('\n').forEach((l, i) => {
    const m = /^\s*#\s*(MODEL|STAGE|PASSES|CHECK|CHECK-NEXT|CHECK-NOT|CHECK-COUNT-(\d+)):\s?(.*)$/.exec(l);
    if (!m) return;
    const [, key, n, rest] = m as unknown as [string, string, string | undefined, string];
    if (key === 'MODEL') out.model = rest.trim();
    else if (key === 'STAGE') out.stage = rest.trim();
    else if (key === 'PASSES') out.passes = rest.split(',').map((s) => s.trim()).filter(Boolean);
    else {
      const kind = key.startsWith('CHECK-COUNT') ? 'CHECK-COUNT' : (key as Directive['kind']);
      out.checks.push({ kind, count: n ? Number(n) : undefined, pattern: compile(rest), text: rest, line: i + 1 });
    }
  });
  return out;
}

/** Produces the IR text a check file describes. */
export function produce(file: string, root: string): string {
  const text = fs.readFileSync(file, 'utf8');
  const d = parseDirectives(text);
  if (d.model) {
    const { graph } = loadModel(path.resolve(root, d.model), { stage: checkStage(d.stage ?? 'fused') });
    return printGraph(graph);
  }
  const g = parseGraph(text, { baseDir: path.dirname(file), fileName: file });
  inferShapes(g);
  runPasses(g, d.passes ?? pipeline('fuse'));
  return printGraph(g);
}

/** Checks output against the directives; returns the failures (empty when all hold). */
export function check(output: string, checks: readonly Directive[]): string[] {
  const lines = output.split('\n');
  const failures: string[] = [];
  let pos = -1; // index of the last matched line
  let pendingNot: Directive[] = [];
  const notsBetween = (from: number, to: number) => {
    for (const n of pendingNot) {
      for (let i = from + 1; i < to; i++) {
        if (n.pattern.test(lines[i]!)) failures.push(`line ${n.line}: CHECK-NOT: ${n.text} — found at output line ${i + 1}: ${lines[i]!.trim()}`);
      }
    }
    pendingNot = [];
  };
  for (const c of checks) {
    if (c.kind === 'CHECK-NOT') {
      pendingNot.push(c);
      continue;
    }
    if (c.kind === 'CHECK-COUNT') {
      const n = lines.filter((l) => c.pattern.test(l)).length;
      if (n !== c.count) failures.push(`line ${c.line}: CHECK-COUNT-${c.count}: ${c.text} — found ${n}`);
      continue;
    }
    let found = -1;
    if (c.kind === 'CHECK-NEXT') {
      if (c.pattern.test(lines[pos + 1] ?? '')) found = pos + 1;
    } else {
      for (let i = pos + 1; i < lines.length; i++) if (c.pattern.test(lines[i]!)) { found = i; break; }
    }
    if (found < 0) {
      failures.push(`line ${c.line}: ${c.kind}: ${c.text} — no match after output line ${pos + 1}`);
      continue;
    }
    notsBetween(pos, found);
    pos = found;
  }
  notsBetween(pos, lines.length);
  return failures;
}
