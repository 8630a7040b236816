#!/usr/bin/env node
// The pimc command. The TypeScript sources are compiled to dist/ by `npm install`
// (the prepare script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/compiler/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('pimc: not built yet; run `npm install` (or `npm run build`) in the pimc folder first\n');
  process.exit(3);
}
// A closed pipe (pimc ... | head) ends the output; it is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv.slice(2));
