// pimc conformance DIR... [--json]
import type { Command } from 'commander';
import { printJson, progress, progressDone, type CliIO } from '../io.js';

export const CONFORMANCE_SCHEMA = 'pimc.conformance/1';

export function registerConformance(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('conformance')
    .description('run ONNX backend test-case folders on the reference interpreter')
    .argument('<dirs...>', 'folders holding case folders (model.onnx + test_data_set_N)')
    .option('--exclusions <file>', 'exclusions file (default: exclusions.json in each folder)')
    .option('--json', `print one JSON document (schema ${CONFORMANCE_SCHEMA})`)
    .action(async (dirs: string[], o: { exclusions?: string; json?: boolean }) => {
      const { readExclusions, runConformance } = await import('../../conformance/conformance.js');
      const report = runConformance(dirs, {
        exclusions: o.exclusions ? readExclusions(o.exclusions) : undefined,
        onCase: (r, i, n) => progress(io, `[${i + 1}/${n}] ${r.name}`),
      });
      progressDone(io);
      if (o.json) {
        printJson(io, { schema: CONFORMANCE_SCHEMA, passed: report.passed, failed: report.failed, skipped: report.skipped, cases: report.results.map(({ dir: _d, ...r }) => r) });
      } else {
        for (const r of report.results) if (r.status === 'failed') io.out(`FAIL ${r.name}: ${r.reason}\n`);
      }
      const line = `${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped\n`;
      if (o.json) io.err(line);
      else io.out(line);
      if (report.failed > 0) setExit(1);
    });
}
