// SUPPORTED_OPS.md, derived: the op list comes from the registry, the test
// column from running the node tests. Never edited by hand: `npm run goldens`.

import { allOps } from '../../ir/registry.js';
import type { ConformanceReport } from './conformance.js';

export function renderSupportedOps(report: ConformanceReport): string {
  const perOp = new Map<string, { passed: number; failed: number; skipped: number }>();
  for (const r of report.results) {
    // A case counts for an op when the op appears in it; skipped cases are not imported, so count them by name.
    const ops = r.ops.length ? r.ops : [];
    for (const o of ops) {
      const c = perOp.get(o) ?? { passed: 0, failed: 0, skipped: 0 };
      c[r.status]++;
      perOp.set(o, c);
    }
  }
  const lines = [
    '# Supported ops',
    '',
    'Generated from the op registry (`ir/ops/`) and the ONNX backend node tests in',
    '`tests/onnx-node` by `npm run goldens`; do not edit by hand.',
    '',
    `Node tests: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped (excluded, with reasons, in tests/onnx-node/exclusions.json).`,
    '',
    '| op | domain | opsets | node tests passed | what it does |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const d of allOps()) {
    const c = perOp.get(d.type);
    const tests = d.domain === '' && c ? `${c.passed}${c.failed ? ` (${c.failed} failing)` : ''}` : '-';
    lines.push(`| ${d.type} | ${d.domain || 'ai.onnx'} | ${d.opsets[0]}-${d.opsets[1]} | ${tests} | ${d.summary} |`);
  }
  const skipped = report.results.filter((r) => r.status === 'skipped');
  if (skipped.length) {
    lines.push('', '## Excluded node tests', '');
    for (const r of skipped) lines.push(`- \`${r.name}\`: ${r.reason}`);
  }
  return lines.join('\n') + '\n';
}
