// Reads the textual IR (docs/ir-text.md) back into a Graph.
//
// Two steps, so that grammar and meaning stay apart:
// 1. chevrotain lexes and parses the text into a small AST of tokens (syntax only);
// 2. build() walks the AST in order and makes the Graph with the Graph/Value/Op API,
//    checking what the grammar cannot: names defined before use and once, known ops
//    and attributes, element types, literal counts.
// Every problem, whatever the input, surfaces as a PimcError with a line:col.

import * as nodePath from 'node:path';
import {
  createToken, EmbeddedActionsParser, Lexer,
  type IToken, type TokenType,
} from './chevrotain.js';
import { parseDim } from './dimexpr.js';
import { fail, isPimcError, PimcError, q } from './diagnostics.js';
import { syntaxMessages, endOf } from './syntax.js';
import { bytesPerElement, coerceScalar, isDType, isFloat, type DType } from './dtype.js';
import { ConstantData, Graph, Op, Value, type AttrValue } from './graph.js';
import { tensorFromRaw } from './raw.js';
import { checkLocation, readRange, resolveConfined } from './files.js';
import { lookupOp } from './registry.js';
import { Tensor, sizeOf } from './tensor.js';
import type { Dim, TensorType } from './types.js';
import './ops/index.js';

export interface ParseOptions {
  /** Folder that `file` constants are relative to (default: the working directory). */
  baseDir?: string;
  /** Named in error messages. */
  fileName?: string;
}

// ---- tokens ------------------------------------------------------------------

const STRING = String.raw`"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"`;

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });
const Str = createToken({ name: 'Str', pattern: new RegExp(STRING), label: 'a string' });
const Ref = createToken({ name: 'Ref', pattern: new RegExp(`%(?:[A-Za-z0-9_.]+|${STRING})`), label: 'a %value' });
const NegInf = createToken({ name: 'NegInf', pattern: /-inf/, label: "'-inf'" });
const Num = createToken({ name: 'Num', pattern: /-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?/, label: 'a number' });
const punct = (name: string, ch: string) => createToken({ name, pattern: ch, label: `'${ch}'` });
const Minus = punct('Minus', '-');
const Plus = punct('Plus', '+');
const Star = punct('Star', '*');
const LBrace = punct('LBrace', '{');
const RBrace = punct('RBrace', '}');
const LParen = punct('LParen', '(');
const RParen = punct('RParen', ')');
const LBracket = punct('LBracket', '[');
const RBracket = punct('RBracket', ']');
const Comma = punct('Comma', ',');
const Colon = punct('Colon', ':');
const Equals = punct('Equals', '=');

// Keywords are also Words, so an op type, device, dim or attribute may be spelled like one.
const Word = createToken({ name: 'Word', pattern: Lexer.NA, label: 'a name' });
const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/, categories: [Word], label: 'a name' });
const kw = (word: string) =>
  createToken({ name: `Kw_${word}`, pattern: new RegExp(word), longer_alt: Ident, categories: [Word], label: `'${word}'` });
const KwGraph = kw('graph'), KwOpset = kw('opset'), KwInput = kw('input'), KwConst = kw('const');
const KwOutput = kw('output'), KwNone = kw('none'), KwName = kw('name'), KwOn = kw('on');
const KwFile = kw('file'), KwOffset = kw('offset'), KwLength = kw('length'), KwDense = kw('dense');
const KwElided = kw('elided'), KwTensor = kw('tensor'), KwInts = kw('ints'), KwFloats = kw('floats');
const KwStrings = kw('strings'), KwInf = kw('inf'), KwNan = kw('nan'), KwTrue = kw('true'), KwFalse = kw('false');

// Lexer order matters: strings and refs before the punctuation they contain, `-inf` before
// numbers before '-', keywords before the Ident they are a longer_alt of.
const TOKENS: TokenType[] = [
  WhiteSpace, Comment, Str, Ref, NegInf, Num, Minus, Plus, Star, LBrace, RBrace, LParen, RParen,
  LBracket, RBracket, Comma, Colon, Equals, Word,
  KwGraph, KwOpset, KwInput, KwConst, KwOutput, KwNone, KwName, KwOn, KwFile, KwOffset, KwLength, KwDense,
  KwElided, KwTensor, KwInts, KwFloats, KwStrings, KwInf, KwNan, KwTrue, KwFalse, Ident,
];

// ---- syntax tree (tokens only; meaning is given by build()) -------------------

interface TypeAst { dtype: IToken; dims: IToken[][] }
interface ListAst { open: IToken; items: IToken[] }
type AttrValAst =
  | { kind: 'scalar'; tok: IToken }
  | { kind: 'list'; list: ListAst }
  | { kind: 'empty'; tok: IToken }
  | { kind: 'tensor'; type: TypeAst; list: ListAst };
interface ResultAst { ref: IToken; type: TypeAst | undefined }
type ConstBodyAst =
  | { kind: 'dense'; list: ListAst }
  | { kind: 'file'; path: IToken; offset: IToken; length: IToken }
  | { kind: 'elided' };
type StmtAst =
  | { kind: 'opset'; domain: IToken; version: IToken }
  | { kind: 'input'; result: ResultAst }
  | { kind: 'const'; ref: IToken; type: TypeAst; body: ConstBodyAst }
  | { kind: 'op'; results: ResultAst[]; opType: IToken; operands: IToken[]; attrs: { name: IToken; value: AttrValAst }[];
      name: IToken | undefined; device: IToken | undefined };
interface GraphAst { name: IToken; stmts: StmtAst[]; outputs: IToken[] }

// ---- grammar -----------------------------------------------------------------

const MESSAGES = syntaxMessages((f) => `unexpected ${f} after the graph's closing '}'`);

class IrParser extends EmbeddedActionsParser {
  constructor() {
    super(TOKENS, { errorMessageProvider: MESSAGES });
    this.performSelfAnalysis();
  }

  graph = this.RULE('graph', (): GraphAst => {
    this.CONSUME(KwGraph);
    const name = this.CONSUME(Str);
    this.CONSUME(LBrace);
    const stmts: StmtAst[] = [];
    this.MANY(() => { stmts.push(this.SUBRULE(this.stmt)); });
    const outputs: IToken[] = [];
    this.OPTION(() => {
      this.CONSUME(KwOutput);
      this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => { outputs.push(this.CONSUME(Ref)); } });
    });
    this.CONSUME(RBrace);
    return { name, stmts, outputs };
  });

  private stmt = this.RULE('stmt', (): StmtAst => this.OR([
    {
      ALT: () => {
        this.CONSUME(KwOpset);
        return { kind: 'opset' as const, domain: this.CONSUME(Str), version: this.CONSUME(Num) };
      },
    },
    {
      ALT: () => {
        this.CONSUME(KwInput);
        return { kind: 'input' as const, result: this.SUBRULE(this.result) };
      },
    },
    { ALT: () => this.SUBRULE(this.constant) },
    { ALT: () => this.SUBRULE(this.opLine) },
  ]));

  private constant = this.RULE('constant', (): StmtAst => {
    this.CONSUME(KwConst);
    const ref = this.CONSUME(Ref);
    this.CONSUME(Colon);
    const type = this.SUBRULE(this.type);
    this.CONSUME(Equals);
    const body = this.OR<ConstBodyAst>([
      { ALT: () => ({ kind: 'dense', list: (this.CONSUME(KwDense), this.SUBRULE(this.list)) }) },
      {
        ALT: () => {
          this.CONSUME(KwFile);
          const path = this.CONSUME(Str);
          const offset = (this.CONSUME(KwOffset), this.CONSUME1(Num));
          const length = (this.CONSUME(KwLength), this.CONSUME2(Num));
          return { kind: 'file', path, offset, length };
        },
      },
      { ALT: () => (this.CONSUME(KwElided), { kind: 'elided' }) },
    ]);
    return { kind: 'const', ref, type, body };
  });

  private opLine = this.RULE('opLine', (): StmtAst => {
    const results: ResultAst[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => { results.push(this.SUBRULE(this.result)); } });
    this.CONSUME(Equals);
    const opType = this.CONSUME(Word);
    this.CONSUME(LParen);
    const operands: IToken[] = [];
    this.MANY_SEP({ SEP: Comma, DEF: () => { operands.push(this.OR([{ ALT: () => this.CONSUME(Ref) }, { ALT: () => this.CONSUME(KwNone) }])); } });
    this.CONSUME(RParen);
    const attrs: { name: IToken; value: AttrValAst }[] = [];
    this.OPTION(() => {
      this.CONSUME(LBrace);
      this.MANY_SEP2({ SEP: Comma, DEF: () => { attrs.push(this.SUBRULE(this.attr)); } });
      this.CONSUME(RBrace);
    });
    const name = this.OPTION2(() => (this.CONSUME(KwName), this.CONSUME(Str)));
    const device = this.OPTION3(() => (this.CONSUME(KwOn), this.OR2([{ ALT: () => this.CONSUME1(Word) }, { ALT: () => this.CONSUME1(Str) }])));
    return { kind: 'op', results, opType, operands, attrs, name, device };
  });

  private result = this.RULE('result', (): ResultAst => {
    const ref = this.CONSUME(Ref);
    const type = this.OPTION(() => (this.CONSUME(Colon), this.SUBRULE(this.type)));
    return { ref, type };
  });

  private attr = this.RULE('attr', () => {
    const name = this.OR([{ ALT: () => this.CONSUME(Word) }, { ALT: () => this.CONSUME(Str) }]);
    this.CONSUME(Equals);
    const value = this.OR2<AttrValAst>([
      { ALT: () => ({ kind: 'scalar', tok: this.SUBRULE(this.literal) }) },
      { ALT: () => ({ kind: 'list', list: this.SUBRULE(this.list) }) },
      {
        ALT: () => {
          const tok = this.OR3([{ ALT: () => this.CONSUME(KwInts) }, { ALT: () => this.CONSUME(KwFloats) }, { ALT: () => this.CONSUME(KwStrings) }]);
          this.CONSUME(LBracket);
          this.CONSUME(RBracket);
          return { kind: 'empty', tok };
        },
      },
      {
        ALT: () => {
          this.CONSUME(KwTensor);
          const type = this.SUBRULE(this.type);
          this.CONSUME(KwDense);
          return { kind: 'tensor', type, list: this.SUBRULE1(this.list) };
        },
      },
    ]);
    return { name, value };
  });

  private type = this.RULE('type', (): TypeAst => {
    const dtype = this.CONSUME(Word);
    this.CONSUME(LBracket);
    const dims: IToken[][] = [];
    this.MANY_SEP({ SEP: Comma, DEF: () => { dims.push(this.SUBRULE(this.dim)); } });
    this.CONSUME(RBracket);
    return { dtype, dims };
  });

  // A dim is an integer or a dimexpr polynomial (`past + 1`, `2*batch*seq`); parseDim reads
  // the collected tokens. A quoted string is a dim taken verbatim.
  private dim = this.RULE('dim', (): IToken[] => this.OR([
    { ALT: () => [this.CONSUME(Str)] },
    {
      ALT: () => {
        const toks: IToken[] = [];
        this.AT_LEAST_ONE(() => {
          toks.push(this.OR2([
            { ALT: () => this.CONSUME(Word) }, { ALT: () => this.CONSUME(Num) }, { ALT: () => this.CONSUME(Plus) },
            { ALT: () => this.CONSUME(Minus) }, { ALT: () => this.CONSUME(Star) },
          ]));
        });
        return toks;
      },
    },
  ]));

  private list = this.RULE('list', (): ListAst => {
    const open = this.CONSUME(LBracket);
    const items: IToken[] = [];
    this.MANY_SEP({ SEP: Comma, DEF: () => { items.push(this.SUBRULE(this.literal)); } });
    this.CONSUME(RBracket);
    return { open, items };
  });

  private literal = this.RULE('literal', (): IToken => this.OR([
    { ALT: () => this.CONSUME(Num) }, { ALT: () => this.CONSUME(NegInf) }, { ALT: () => this.CONSUME(KwInf) },
    { ALT: () => this.CONSUME(KwNan) }, { ALT: () => this.CONSUME(KwTrue) }, { ALT: () => this.CONSUME(KwFalse) },
    { ALT: () => this.CONSUME(Str) },
  ]));
}

// Built once: chevrotain's grammar analysis is the expensive part.
const LEXER = new Lexer(TOKENS, { positionTracking: 'onlyStart' });
const PARSER = new IrParser();

// ---- entry point ----------------------------------------------------------------

export function parseGraph(text: string, opts: ParseOptions = {}): Graph {
  const at = (line: number, col: number) => `at line ${line}:${col}${opts.fileName ? ` in ${q(opts.fileName)}` : ''}`;
  try {
    const lexed = LEXER.tokenize(text);
    PARSER.input = lexed.tokens;
    const ast = PARSER.graph();
    // Report whichever problem comes first in the text: a stray character or a syntax error.
    const lexErr = lexed.errors[0];
    const parseErr = PARSER.errors[0];
    if (lexErr && (!parseErr || !(parseErr.token.startOffset < lexErr.offset))) {
      fail('PIMC0501', `IR text does not parse: unexpected character ${JSON.stringify(text[lexErr.offset] ?? '')} ${at(lexErr.line ?? 0, lexErr.column ?? 0)}`);
    }
    if (parseErr) {
      const [line, col] = Number.isNaN(parseErr.token.startLine) ? endOf(text) : [parseErr.token.startLine!, parseErr.token.startColumn!];
      fail('PIMC0501', `IR text does not parse: ${parseErr.message} ${at(line, col)}`);
    }
    return new Builder(opts, (t) => at(t.startLine ?? 0, t.startColumn ?? 0)).build(ast);
  } catch (e) {
    if (isPimcError(e)) throw e;
    // A safety net: the contract is that bad text only ever gives a PimcError.
    throw new PimcError('PIMC0501', `IR text does not parse: ${e instanceof Error ? e.message : String(e)}${opts.fileName ? ` in ${q(opts.fileName)}` : ''}`);
  }
}


// ---- meaning ---------------------------------------------------------------------

const INT_TEXT = /^-?\d+$/;

class Builder {
  private readonly defined = new Map<string, { value: Value; tok: IToken }>();
  private readonly opNames = new Set<string>();
  /** The same few dims recur on every line: parse each spelling once. */
  private readonly dims = new Map<string, Dim>();

  constructor(private readonly opts: ParseOptions, private readonly at: (t: IToken) => string) {}

  private bad(what: string, t: IToken): never {
    return fail('PIMC0501', `IR text does not parse: ${what} ${this.at(t)}`);
  }

  build(ast: GraphAst): Graph {
    const g = new Graph(this.str(ast.name), new Map());
    g.baseDir = this.opts.baseDir;
    for (const s of ast.stmts) {
      switch (s.kind) {
        case 'opset': {
          const domain = this.str(s.domain);
          if (g.opsets.has(domain)) this.bad(`opset ${q(domain)} is given twice`, s.domain);
          g.opsets.set(domain, this.int(s.version, 0));
          break;
        }
        case 'input':
          g.addInput(this.define(s.result.ref, s.result.type && this.type(s.result.type)));
          break;
        case 'const': {
          const data = this.constData(s.type, s.body);
          g.addConstant(this.define(s.ref, undefined), data);
          break;
        }
        case 'op':
          g.addOp(this.op(s));
          break;
      }
    }
    g.outputs = ast.outputs.map((t) => this.use(t));
    return g;
  }

  private op(s: Extract<StmtAst, { kind: 'op' }>): Op {
    const full = s.opType.image;
    const dot = full.lastIndexOf('.');
    const domain = dot < 0 ? '' : full.slice(0, dot);
    const type = full.slice(dot + 1);
    const def = lookupOp(domain, type);
    if (!def) fail('PIMC0503', `unknown op ${full} ${this.at(s.opType)}`);
    const attrs = new Map<string, AttrValue>();
    for (const a of s.attrs) {
      const name = a.name.tokenType === Str ? this.str(a.name) : a.name.image;
      if (!Object.prototype.hasOwnProperty.call(def.attrs, name)) fail('PIMC0503', `${full} has no attribute ${q(name)} ${this.at(a.name)}`);
      if (attrs.has(name)) this.bad(`attribute ${q(name)} is given twice`, a.name);
      attrs.set(name, this.attrValue(a.value));
    }
    // Inputs are resolved before outputs are defined: an op cannot read its own result.
    const inputs = s.operands.map((t) => (t.tokenType === KwNone ? null : this.use(t)));
    const outputs = s.results.map((r) => this.define(r.ref, r.type && this.type(r.type)));
    // Hand-written IR may leave out op names; give a unique one from the first result.
    let name = s.name ? this.str(s.name) : outputs[0]!.name;
    if (!s.name) for (let i = 1; this.opNames.has(name); i++) name = `${outputs[0]!.name}_${i}`;
    this.opNames.add(name);
    const device = s.device && (s.device.tokenType === Str ? this.str(s.device) : s.device.image);
    return new Op({ name, type, domain, inputs, outputs, attrs, device });
  }

  // ---- names ----

  private refName(t: IToken): string {
    const body = t.image.slice(1);
    return body.startsWith('"') ? this.str(t, body) : body;
  }

  private define(t: IToken, type: TensorType | undefined): Value {
    const name = this.refName(t);
    const prev = this.defined.get(name);
    if (prev) this.bad(`value ${t.image} is defined twice (first at line ${prev.tok.startLine})`, t);
    const value = new Value(name, type);
    this.defined.set(name, { value, tok: t });
    return value;
  }

  private use(t: IToken): Value {
    const d = this.defined.get(this.refName(t));
    if (!d) fail('PIMC0502', `unknown value ${t.image} ${this.at(t)}`);
    return d.value;
  }

  // ---- literals ----

  private str(t: IToken, image = t.image): string {
    try {
      return JSON.parse(image) as string;
    } catch {
      return this.bad(`bad string ${image}`, t);
    }
  }

  /**
   * A whole number written without a point or exponent. Counts (`min` given) must be exact
   * doubles; values may be as big as int64 (INT64_MAX means "to the end" in ONNX).
   */
  private int(t: IToken, min?: number): number {
    const v = Number(t.image);
    if (t.tokenType !== Num || !INT_TEXT.test(t.image)) this.bad(`expected an integer, found ${q(t.image)}`, t);
    const ok = min === undefined ? Number.isFinite(v) : Number.isSafeInteger(v) && v >= min;
    if (!ok) this.bad(`integer ${t.image} is out of range`, t);
    return v;
  }

  private float(t: IToken): number {
    if (t.tokenType === Num) return Number(t.image);
    if (t.tokenType === NegInf) return -Infinity;
    if (t.tokenType === KwInf) return Infinity;
    if (t.tokenType === KwNan) return NaN;
    return this.bad(`expected a number, found ${q(t.image)}`, t);
  }

  private type(t: TypeAst): TensorType {
    const dtype = t.dtype.image;
    if (!isDType(dtype)) this.bad(`unknown element type ${q(dtype)}`, t.dtype);
    const shape = t.dims.map((toks): Dim => {
      if (toks.length === 1 && toks[0]!.tokenType === Str) return this.str(toks[0]!);
      const text = toks.length === 1 ? toks[0]!.image : toks.map((x) => x.image).join(' ');
      let d = this.dims.get(text);
      if (d === undefined) {
        try {
          d = parseDim(text);
        } catch {
          return this.bad(`bad dimension ${q(text)}`, toks[0]!);
        }
        this.dims.set(text, d);
      }
      return d;
    });
    return { dtype, shape };
  }

  /** A type whose dims are all sizes (constants and tensor attributes). */
  private staticType(t: TypeAst): { dtype: DType; shape: number[] } {
    const { dtype, shape } = this.type(t);
    shape.forEach((d, i) => {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) this.bad(`a constant needs sizes, not ${q(String(d))}`, t.dims[i]![0]!);
    });
    return { dtype, shape: shape as number[] };
  }

  private dense(dtype: DType, shape: number[], list: ListAst): Tensor {
    const n = sizeOf(shape);
    if (list.items.length !== n) this.bad(`dense literal has ${list.items.length} element(s), ${dtype}[${shape.join(', ')}] needs ${n}`, list.open);
    const values = list.items.map((t) => {
      if (dtype === 'bool') {
        if (t.tokenType === KwTrue) return 1;
        if (t.tokenType === KwFalse) return 0;
        return this.bad(`expected true or false, found ${q(t.image)}`, t);
      }
      if (isFloat(dtype)) return this.float(t);
      const v = this.int(t);
      if (coerceScalar(dtype, v) !== v) this.bad(`${t.image} is out of range for ${dtype}`, t);
      return v;
    });
    return Tensor.from(dtype, shape, values);
  }

  private constData(typeAst: TypeAst, body: ConstBodyAst): ConstantData {
    const { dtype, shape } = this.staticType(typeAst);
    if (body.kind === 'dense') return ConstantData.of(this.dense(dtype, shape, body.list));
    if (body.kind === 'elided') return new ConstantData(dtype, shape, { kind: 'elided' }, undefined);
    const file = this.str(body.path);
    const offset = this.int(body.offset, 0);
    const length = this.int(body.length, 0);
    const need = sizeOf(shape) * bytesPerElement(dtype);
    if (length !== need) this.bad(`length ${length} does not match ${dtype}[${shape.join(', ')}] (${need} bytes)`, body.length);
    try {
      checkLocation(file, 'file constant');
    } catch (e) {
      fail('PIMC0302', `${(e as Error).message.replace(/^PIMC\d+: /, '')} ${this.at(body.path)}`);
    }
    // The folder is fixed now, so a later change of working directory does not move the file.
    const base = nodePath.resolve(this.opts.baseDir ?? process.cwd());
    return new ConstantData(dtype, shape, { kind: 'file', path: file, offset, length }, () =>
      tensorFromRaw(dtype, shape, readRange(resolveConfined(base, file, `constant data ${q(file)}`), offset, length)));
  }

  private attrValue(v: AttrValAst): AttrValue {
    switch (v.kind) {
      case 'scalar': {
        const t = v.tok;
        if (t.tokenType === Str) return { kind: 'string', value: this.str(t) };
        if (t.tokenType === Num && INT_TEXT.test(t.image)) return { kind: 'int', value: this.int(t) };
        // Float attributes are float32, as in ONNX.
        return { kind: 'float', value: Math.fround(this.float(t)) };
      }
      case 'empty':
        return { kind: v.tok.image as 'ints' | 'floats' | 'strings', value: [] };
      case 'tensor': {
        const { dtype, shape } = this.staticType(v.type);
        return { kind: 'tensor', value: this.dense(dtype, shape, v.list) };
      }
      case 'list': {
        const items = v.list.items;
        if (items.length === 0) this.bad('an empty list needs its kind: ints[], floats[] or strings[]', v.list.open);
        const strs = items.filter((t) => t.tokenType === Str).length;
        if (strs === items.length) return { kind: 'strings', value: items.map((t) => this.str(t)) };
        if (strs > 0) this.bad('a list mixes strings and numbers', v.list.open);
        if (items.every((t) => t.tokenType === Num && INT_TEXT.test(t.image))) return { kind: 'ints', value: items.map((t) => this.int(t)) };
        return { kind: 'floats', value: items.map((t) => Math.fround(this.float(t))) };
      }
    }
  }
}

