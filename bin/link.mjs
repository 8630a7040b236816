#!/usr/bin/env node
// Run by `npm install` (the prepare script): links node_modules/.bin/pimc to
// bin/pimc.js so that `npx pimc ...` works in a clone. The package does not
// declare a "bin" entry because npm 11's npx fails on a project's own bin
// (it tries to install the project into its cache and stops with ENOENT).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binDir = path.join(root, 'node_modules', '.bin');
const link = path.join(binDir, 'pimc');
fs.mkdirSync(binDir, { recursive: true });
fs.rmSync(link, { force: true });
fs.symlinkSync(path.relative(binDir, path.join(root, 'bin', 'pimc.js')), link);
