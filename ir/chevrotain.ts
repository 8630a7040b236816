// chevrotain, loaded from its single-file bundle: the package entry pulls in
// hundreds of lodash-es modules (about 400 ms at start-up, on every pimc
// command); the bundle it ships beside them loads in about 20 ms.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Chevrotain from 'chevrotain';

const require = createRequire(import.meta.url);
const entry = require.resolve('chevrotain');
const bundle = path.join(path.dirname(entry), '..', 'chevrotain.mjs');
const mod = (fs.existsSync(bundle) ? await import(pathToFileURL(bundle).href) : await import('chevrotain')) as typeof Chevrotain;

export const { createToken, EmbeddedActionsParser, EOF, Lexer } = mod;
export type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
