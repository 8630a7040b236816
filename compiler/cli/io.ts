// Where the CLI writes: injected so tests can run commands in-process.

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal: progress lines go there only then. */
  interactive: boolean;
}

export const processIO: CliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  interactive: !!process.stderr.isTTY,
};

/** A progress line on stderr, overwritten in place; silent when not a terminal. */
export function progress(io: CliIO, text: string): void {
  if (io.interactive) io.err(`\r\x1b[2K${text}`);
}

export function progressDone(io: CliIO): void {
  if (io.interactive) io.err('\r\x1b[2K');
}

/** One JSON document on stdout. */
export function printJson(io: CliIO, doc: unknown): void {
  io.out(JSON.stringify(doc, null, 2) + '\n');
}
