// What every chevrotain text format of pimc shares (the textual IR, the
// HBM-PIM, NPU and CXL-PNM assemblers): short one-line parse messages
// instead of chevrotain's multi-line path listings, and the lex-parse-build
// sequence that turns any problem into one coded error with a line:col.

import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from './chevrotain.js';
import { fail, isPimcError, PimcError, q, type DiagnosticCode } from './diagnostics.js';

/** A token type as messages name it. */
export const label = (t: TokenType): string => t.LABEL ?? t.name;
const found = (t: IToken | undefined): string =>
  !t || t.tokenType === EOF ? 'end of input' : JSON.stringify(t.image.length > 40 ? t.image.slice(0, 40) + '...' : t.image);
const oneOf = (paths: TokenType[][]): string => {
  const firsts = [...new Set(paths.map((p) => p[0]).filter((t): t is TokenType => !!t).map(label))];
  return firsts.length === 1 ? firsts[0]! : `one of ${firsts.join(', ')}`;
};

/** The messages; `trailing` says what is wrong with input left after a complete file (given what was found). */
export function syntaxMessages(trailing: (found: string) => string): IParserErrorMessageProvider {
  return {
    buildMismatchTokenMessage: ({ expected, actual }) => `expected ${label(expected)}, found ${found(actual)}`,
    buildNotAllInputParsedMessage: ({ firstRedundant }) => trailing(found(firstRedundant)),
    buildNoViableAltMessage: ({ expectedPathsPerAlt, actual }) => `expected ${oneOf(expectedPathsPerAlt.flat())}, found ${found(actual[0])}`,
    buildEarlyExitMessage: ({ expectedIterationPaths, actual }) => `expected ${oneOf(expectedIterationPaths)}, found ${found(actual[0])}`,
  };
}

/** Line and column just past the end of the text (where an unexpected end of input is). */
export function endOf(text: string): [number, number] {
  const lines = text.split(/\r\n?|\n/);
  return [lines.length, lines[lines.length - 1]!.length + 1];
}

interface Lexing {
  tokenize(text: string): { tokens: IToken[]; errors: { offset: number; line?: number; column?: number }[] };
}
interface Parsing {
  input: IToken[];
  errors: { message: string; token: IToken }[];
}

export interface SyntaxOptions {
  /** The code every problem gets, and what the text is ("NPU assembly"). */
  code: DiagnosticCode;
  what: string;
  fileName?: string;
}

/**
 * Lexes and parses `text` with `rule`, then gives meaning with `build` (which
 * reports its own problems at a token with `at`). The first lexing or parsing
 * error, whichever comes first in the text, is a coded error with line:col;
 * anything else thrown (say, a stack overflow on absurd nesting) becomes one
 * too: bad text only ever gives a PimcError.
 */
export function parseText<A, R>(text: string, o: SyntaxOptions, lexer: Lexing, parser: Parsing, rule: () => A, build: (ast: A, at: (t: IToken) => string) => R): R {
  const where = o.fileName ? ` in ${q(o.fileName)}` : '';
  const at = (line: number, col: number) => `at line ${line}:${col}${where}`;
  try {
    const lexed = lexer.tokenize(text);
    parser.input = lexed.tokens;
    const ast = rule();
    const lexErr = lexed.errors[0];
    const parseErr = parser.errors[0];
    if (lexErr && (!parseErr || !(parseErr.token.startOffset < lexErr.offset))) {
      fail(o.code, `${o.what} does not parse: unexpected character ${JSON.stringify(text[lexErr.offset] ?? '')} ${at(lexErr.line ?? 0, lexErr.column ?? 0)}`);
    }
    if (parseErr) {
      const [line, col] = Number.isNaN(parseErr.token.startLine) ? endOf(text) : [parseErr.token.startLine!, parseErr.token.startColumn!];
      fail(o.code, `${o.what} does not parse: ${parseErr.message} ${at(line, col)}`);
    }
    return build(ast, (t) => at(t.startLine ?? 0, t.startColumn ?? 0));
  } catch (e) {
    if (isPimcError(e)) throw e;
    throw new PimcError(o.code, `${o.what} does not parse: ${e instanceof Error ? e.message : String(e)}${where}`);
  }
}
