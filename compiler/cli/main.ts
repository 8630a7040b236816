// The pimc command line: a thin shell over the API (compiler/api).
// Exit codes: 0 success, 1 results differ from the reference, 2 bad input or
// usage (a coded one-line message), 3 internal error.

import { Command, CommanderError } from 'commander';
import { isPimcError } from '../../ir/diagnostics.js';
import { processIO, type CliIO } from './io.js';
import { VERSION } from '../api/version.js';

type Register = (program: Command, io: CliIO, setExit: (code: number) => void) => void;

/**
 * The commands in --help order, each with the names it registers. A command
 * module is loaded only when needed: for `pimc NAME ...` just that command's
 * module; for anything else (help, --version, a mistyped name) all of them,
 * so that help and error messages see every command.
 */
const COMMANDS: ReadonlyArray<{ names: readonly string[]; load: () => Promise<Register> }> = [
  { names: ['import'], load: async () => (await import('./commands/import.js')).registerImport },
  { names: ['run'], load: async () => (await import('./commands/run.js')).registerRun },
  { names: ['conformance'], load: async () => (await import('./commands/conformance.js')).registerConformance },
  { names: ['demo'], load: async () => (await import('./commands/demo.js')).registerDemo },
  { names: ['analyze'], load: async () => (await import('./commands/analyze.js')).registerAnalyze },
  { names: ['compile'], load: async () => (await import('./commands/compile.js')).registerCompile },
  { names: ['simulate'], load: async () => (await import('./commands/simulate.js')).registerSimulate },
  { names: ['verify'], load: async () => (await import('./commands/verify.js')).registerVerify },
  { names: ['generate'], load: async () => (await import('./commands/generate.js')).registerGenerate },
  { names: ['report'], load: async () => (await import('./commands/report.js')).registerReport },
  { names: ['kernel'], load: async () => (await import('./commands/kernel.js')).registerKernel },
  { names: ['asm', 'disasm'], load: async () => (await import('./commands/asm.js')).registerAsm },
];

export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let exitCode = 0;
  const setExit = (c: number) => { exitCode = Math.max(exitCode, c); };
  const program = new Command('pimc')
    .description('compile transformer models for NPUs with processing-in-memory, and simulate them')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: () => {} })
    .showHelpAfterError(false);
  const named = COMMANDS.find((c) => c.names.includes(argv[0] ?? ''));
  const registers = await Promise.all((named ? [named] : COMMANDS).map((c) => c.load()));
  for (const register of registers) register(program, io, setExit);
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
