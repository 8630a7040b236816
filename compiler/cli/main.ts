// The pimc command line: a thin shell over the API (compiler/api).
// Exit codes: 0 success, 1 results differ from the reference, 2 bad input or
// usage (a coded one-line message), 3 internal error.

import { Command, CommanderError } from 'commander';
import { isPimcError } from '../../ir/diagnostics.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerAsm } from './commands/asm.js';
import { registerConformance } from './commands/conformance.js';
import { registerDemo } from './commands/demo.js';
import { registerImport } from './commands/import.js';
import { registerKernel } from './commands/kernel.js';
import { registerRun } from './commands/run.js';
import { processIO, type CliIO } from './io.js';
import { VERSION } from '../api/version.js';

export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let exitCode = 0;
  const setExit = (c: number) => { exitCode = Math.max(exitCode, c); };
  const program = new Command('pimc')
    .description('compile transformer models for NPUs with processing-in-memory, and simulate them')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: () => {} })
    .showHelpAfterError(false);
  registerImport(program, io);
  registerRun(program, io, setExit);
  registerConformance(program, io, setExit);
  registerDemo(program, io, setExit);
  registerAnalyze(program, io);
  registerKernel(program, io, setExit);
  registerAsm(program, io);
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: () => {} });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    return reportError(e, io);
  }
}

function reportError(e: unknown, io: CliIO): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    const msg = e.message.replace(/^error:\s*/, '').split('\n')[0];
    io.err(`PIMC0701: ${msg}; see pimc --help\n`);
    return 2;
  }
  if (isPimcError(e)) {
    io.err(`${e.message}\n`);
    return 2;
  }
  const err = e as Error;
  io.err(`pimc: internal error: ${err?.message ?? String(e)}\n`);
  if (process.env.PIMC_DEBUG) io.err(`${err?.stack ?? ''}\n`);
  else io.err('(this is a bug in pimc; set PIMC_DEBUG=1 for a stack trace and please report it)\n');
  return 3;
}
