// The text form of NPU programs (.npuasm, docs/npu-asm.md): a chevrotain
// parser, a deterministic printer, and assemble / disassemble.
//
// As in backends/hbm-pim/asm.ts, grammar and meaning stay apart: a line is
// read generically (a head word, then items on the same line), and SYNTAX
// below says, per op, which items follow the mnemonic; both the printer and
// the builder interpret it, so they cannot disagree. Whatever the input, a
// problem is a PimcError PIMC1008 with a line:col.
//
//   program "gemm"
//   engine 0:
//     dma.load t0, spad[0x0]:f16[1,64,128] <- dram[0x4000]:f16[1,64,128]{8192,4096,1}
//     wait.dma t0
//     matmul.acc spad[0x8000]:f32[1,64,32] += spad[0x0]:f16[1,64,128] x spad[0x4000]:f16[1,128,32]
//     vec.muls spad[0x8000]:f32[1,64,32], spad[0x8000]:f32[1,64,32], 0.125
//     end

import {
  createToken, EmbeddedActionsParser, Lexer,
  type IToken, type TokenType,
} from '../../ir/chevrotain.js';
import { fail, q } from '../../ir/diagnostics.js';
import { syntaxMessages, parseText } from '../../ir/syntax.js';
import { decodeProgram, encodeProgram } from './binary.js';
import type { Instr, InstrOp, NpuDtype, NpuProgram, Space, View } from './instr.js';
import { DTYPE_CODE, MAX_ADDR, mnemonic, OP_SPEC, SPACE_CODE, VEC_FN_OP } from './isa.js';

export interface AsmOptions {
  /** Named in error messages. */
  fileName?: string;
}

// ---- syntax table --------------------------------------------------------------

/** What follows a mnemonic: operands (views in slot order, then scalars) and literal punctuation. */
type Elem = 'view' | 'tag' | 'sem' | 'count' | 'imm' | ',' | '<-' | '=' | '+=' | 'x' | 'by';

const SYNTAX: Record<InstrOp, readonly Elem[]> = {
  'dma.load': ['tag', ',', 'view', '<-', 'view'],
  'dma.store': ['tag', ',', 'view', '<-', 'view'],
  'dma.gather': ['tag', ',', 'view', '<-', 'view', 'by', 'view'],
  'wait.dma': ['tag'],
  matmul: ['view', '=', 'view', 'x', 'view'], // `+=` for matmul.acc
  'vec.unary': ['view', ',', 'view'],
  'vec.binary': ['view', ',', 'view', ',', 'view'],
  'vec.scalar': ['view', ',', 'view', ',', 'imm'],
  'vec.reduce': ['view', ',', 'view'],
  signal: ['sem'],
  'wait.sem': ['sem', ',', 'count'],
  end: [],
};

function syntaxOf(op: InstrOp, accumulate: boolean): readonly Elem[] {
  const s = SYNTAX[op];
  return op === 'matmul' && accumulate ? s.map((e) => (e === '=' ? '+=' : e)) : s;
}

// ---- tokens ----------------------------------------------------------------------

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });
const Str = createToken({ name: 'Str', pattern: /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/, label: 'a string' });
const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_.]*/, label: 'a name' });
const Num = createToken({
  name: 'Num',
  pattern: /-?(?:0x[0-9a-fA-F]+|inf|nan|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/,
  longer_alt: Ident,
  label: 'a number',
});
const Tag = createToken({ name: 'Tag', pattern: /t\d+/, longer_alt: Ident, label: "a DMA tag 'tN'" });
const Sem = createToken({ name: 'Sem', pattern: /s\d+/, longer_alt: Ident, label: "a semaphore 'sN'" });
const punct = (name: string, ch: string) => createToken({ name, pattern: ch, label: `'${ch}'` });
const Arrow = punct('Arrow', '<-'), PlusEq = punct('PlusEq', '+='), Eq = punct('Eq', '='), Colon = punct('Colon', ':');
const Comma = punct('Comma', ','), LBracket = punct('LBracket', '['), RBracket = punct('RBracket', ']');
const LBrace = punct('LBrace', '{'), RBrace = punct('RBrace', '}');

const TOKENS: TokenType[] = [WhiteSpace, Comment, Str, Num, Tag, Sem, Arrow, PlusEq, Eq, Colon, Comma, LBracket, RBracket, LBrace, RBrace, Ident];

// ---- syntax tree and grammar ---------------------------------------------------

interface ViewAst { kind: 'view'; space: IToken; addr: IToken; dtype: IToken; shape: IToken[]; strides?: IToken[] }
interface TokAst { kind: 'tok'; tok: IToken }
type ItemAst = ViewAst | TokAst;
interface StmtAst { head: IToken; items: ItemAst[] }

const MESSAGES = syntaxMessages((f) => `expected a line starting with a name, found ${f}`);

class NpuAsmParser extends EmbeddedActionsParser {
  constructor() {
    super(TOKENS, { errorMessageProvider: MESSAGES });
    this.performSelfAnalysis();
  }

  file = this.RULE('file', (): StmtAst[] => {
    const out: StmtAst[] = [];
    this.MANY(() => { out.push(this.SUBRULE(this.statement)); });
    return out;
  });

  // Items start on the head's line: one statement per line.
  private statement = this.RULE('statement', (): StmtAst => {
    const head = this.CONSUME(Ident);
    const items: ItemAst[] = [];
    this.MANY({ GATE: () => this.LA(1).startLine === head.startLine, DEF: () => { items.push(this.SUBRULE(this.item)); } });
    return { head, items };
  });

  private item = this.RULE('item', (): ItemAst => this.OR([
    { ALT: () => this.SUBRULE(this.view) },
    ...[Ident, Num, Tag, Sem, Str, Comma, Arrow, PlusEq, Eq, Colon].map((t) => ({ ALT: (): ItemAst => ({ kind: 'tok', tok: this.CONSUME(t) }) })),
  ]));

  private view = this.RULE('view', (): ViewAst => {
    const space = this.CONSUME(Ident);
    this.CONSUME(LBracket);
    const addr = this.CONSUME(Num);
    this.CONSUME(RBracket);
    this.CONSUME(Colon);
    const dtype = this.CONSUME1(Ident);
    this.CONSUME1(LBracket);
    const shape = this.SUBRULE(this.nums);
    this.CONSUME1(RBracket);
    const strides = this.OPTION(() => {
      this.CONSUME(LBrace);
      const s = this.SUBRULE1(this.nums);
      this.CONSUME(RBrace);
      return s;
    });
    return { kind: 'view', space, addr, dtype, shape, strides };
  });

  private nums = this.RULE('nums', (): IToken[] => {
    const out: IToken[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => { out.push(this.CONSUME(Num)); } });
    return out;
  });
}

// Built once: chevrotain's grammar analysis is the expensive part.
const LEXER = new Lexer(TOKENS, { positionTracking: 'onlyStart' });
const PARSER = new NpuAsmParser();

// ---- entry points ----------------------------------------------------------------

/** Reads a .npuasm text. */
export function parseNpuAsm(text: string, opts: AsmOptions = {}): NpuProgram {
  return parseText(text, { code: 'PIMC1008', what: 'NPU assembly', fileName: opts.fileName }, LEXER, PARSER, () => PARSER.file(), (ast, at) => new Builder(at).program(ast));
}

/** Text to the PNPU binary, as `pimc asm` writes it. */
export function assembleNpu(text: string, opts: AsmOptions = {}): Uint8Array {
  return encodeProgram(parseNpuAsm(text, opts));
}

/** PNPU binary to canonical text, as `pimc disasm` prints it. */
export function disassembleNpu(bytes: Uint8Array, opts: AsmOptions = {}): string {
  return printNpuAsm(decodeProgram(bytes, opts.fileName ? `NPU binary ${q(opts.fileName)}` : 'NPU binary'));
}


// ---- meaning -----------------------------------------------------------------------

const SPACES = Object.keys(SPACE_CODE) as Space[];
const DTYPES = Object.keys(DTYPE_CODE) as NpuDtype[];
const U32 = 0xffffffff;

class Builder {
  constructor(private readonly at: (t: IToken) => string) {}

  private bad(what: string, t: IToken): never {
    return fail('PIMC1008', `NPU assembly does not parse: ${what} ${this.at(t)}`);
  }

  private int(t: IToken, min: number, max: number, what: string): number {
    if (!/^-?(0x[0-9a-fA-F]+|\d+)$/.test(t.image)) this.bad(`${what} must be an integer, found ${q(t.image)}`, t);
    const neg = t.image.startsWith('-');
    const v = (neg ? -1 : 1) * Number(neg ? t.image.slice(1) : t.image);
    if (!Number.isSafeInteger(v) || v < min || v > max) this.bad(`${what} ${t.image} is outside ${min}..${max}`, t);
    return v === 0 ? 0 : v; // no -0
  }

  program(stmts: StmtAst[]): NpuProgram {
    let name = '';
    const engines: Instr[][] = [];
    stmts.forEach((st, i) => {
      const h = st.head;
      if (h.image === 'program') {
        if (i !== 0) this.bad('program must be the first line', h);
        const t = st.items[0];
        if (st.items.length !== 1 || t?.kind !== 'tok' || t.tok.tokenType !== Str) this.bad('expected program "NAME"', t?.kind === 'tok' ? t.tok : h);
        name = JSON.parse((st.items[0] as TokAst).tok.image) as string;
      } else if (h.image === 'engine') {
        const [n, c] = st.items;
        if (st.items.length !== 2 || n?.kind !== 'tok' || c?.kind !== 'tok' || c.tok.tokenType !== Colon) this.bad(`expected engine ${engines.length}:`, h);
        this.int(n.tok, engines.length, engines.length, 'engine number (engines are numbered 0, 1, ... in order)');
        engines.push([]);
      } else {
        if (!engines.length) this.bad(`instruction ${q(h.image)} before the first engine header; start with "engine 0:"`, h);
        engines[engines.length - 1]!.push(this.instr(st));
      }
    });
    return { name, engines };
  }

  instr(st: StmtAst): Instr {
    const m = st.head;
    let op: InstrOp | undefined;
    let fn: string | undefined;
    let accumulate = false;
    if (m.image === 'matmul.acc') [op, accumulate] = ['matmul', true];
    else if (m.image.startsWith('vec.')) [op, fn] = [VEC_FN_OP.get(m.image.slice(4)), m.image.slice(4)];
    else if (OP_SPEC.has(m.image as InstrOp) && !OP_SPEC.get(m.image as InstrOp)!.fns) op = m.image as InstrOp;
    if (!op) this.bad(`unknown instruction ${q(m.image)}`, m);
    const rec: Record<string, unknown> = { op };
    if (fn !== undefined) rec.fn = fn;
    if (op === 'matmul') rec.accumulate = accumulate;
    const spec = OP_SPEC.get(op)!;
    const pattern = syntaxOf(op, accumulate);
    let slot = 0;
    let last: IToken = m;
    pattern.forEach((want, k) => {
      const item = st.items[k];
      if (!item) this.bad(`${m.image} expects ${describe(want)} here, found the end of the line`, last);
      const tok = item.kind === 'tok' ? item.tok : item.space;
      last = tok;
      if (want === 'view') {
        if (item.kind !== 'view') this.bad(`${m.image} expects a view here (space[addr]:dtype[shape]{strides}), found ${q(tok.image)}`, tok);
        rec[spec.views[slot++]!] = this.view(item);
      } else if (item.kind !== 'tok') {
        this.bad(`${m.image} expects ${describe(want)} here, found a view`, tok);
      } else if (want === 'tag' || want === 'sem') {
        const type = want === 'tag' ? Tag : Sem;
        if (tok.tokenType !== type) this.bad(`${m.image} expects ${describe(want)} here, found ${q(tok.image)}`, tok);
        rec[want] = this.int({ ...tok, image: tok.image.slice(1) }, 0, U32, want === 'tag' ? 'tag' : 'semaphore');
      } else if (want === 'count') {
        if (tok.tokenType !== Num) this.bad(`${m.image} expects a count here, found ${q(tok.image)}`, tok);
        rec.count = this.int(tok, 0, U32, 'count');
      } else if (want === 'imm') {
        if (tok.tokenType !== Num) this.bad(`${m.image} expects a number here, found ${q(tok.image)}`, tok);
        rec.imm = parseImm(tok.image);
      } else if (tok.image !== want) {
        this.bad(`${m.image} expects ${describe(want)} here, found ${q(tok.image)}`, tok);
      }
    });
    const extra = st.items[pattern.length];
    if (extra) this.bad(`unexpected ${q(extra.kind === 'tok' ? extra.tok.image : 'view')} after the operands of ${m.image}`, extra.kind === 'tok' ? extra.tok : extra.space);
    return rec as unknown as Instr;
  }

  private view(v: ViewAst): View {
    const space = v.space.image as Space;
    if (!SPACES.includes(space)) this.bad(`unknown memory ${q(v.space.image)} (${SPACES.join(', ')})`, v.space);
    const dtype = v.dtype.image as NpuDtype;
    if (!DTYPES.includes(dtype)) this.bad(`unknown dtype ${q(v.dtype.image)} (${DTYPES.join(', ')})`, v.dtype);
    const addr = this.int(v.addr, 0, MAX_ADDR, 'address');
    if (v.shape.length > 3) this.bad('a view has at most 3 dims', v.shape[3]!);
    const given = v.shape.map((t) => this.int(t, 0, U32, 'dim'));
    const shape = [1, 1, 1, ...given].slice(-3) as [number, number, number];
    let strides: [number, number, number] = [shape[1] * shape[2], shape[2], 1];
    if (v.strides) {
      if (v.strides.length !== v.shape.length) this.bad(`${v.strides.length} strides for ${v.shape.length} dims`, v.strides[0]!);
      strides = [0, 0, 0, ...v.strides.map((t) => this.int(t, -0x80000000, 0x7fffffff, 'stride'))].slice(-3) as [number, number, number];
    }
    return { space, addr, dtype, shape, strides };
  }
}

function describe(e: Elem): string {
  return e === 'view' ? 'a view' : e === 'tag' ? "a tag 'tN'" : e === 'sem' ? "a semaphore 'sN'" : e === 'count' ? 'a count' : e === 'imm' ? 'a number' : `'${e}'`;
}

function parseImm(s: string): number {
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const v = body === 'inf' ? Infinity : body === 'nan' ? NaN : Number(body);
  return neg ? -v : v;
}

// ---- printing ----------------------------------------------------------------------

const hex = (v: number) => `0x${v.toString(16)}`;

/** An immediate, so that parseImm(printImm(v)) is v (-0, inf and nan included). */
export function printImm(v: number): string {
  if (v !== v) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return Object.is(v, -0) ? '-0' : String(v);
}

/** `spad[0x100]:f16[1,64,128]`, with `{s0,s1,s2}` only when the strides are not the contiguous ones. */
export function printView(v: View): string {
  const [d0, d1, d2] = v.shape;
  const contiguous = v.strides[0] === d1 * d2 && v.strides[1] === d2 && v.strides[2] === 1;
  return `${v.space}[${hex(v.addr)}]:${v.dtype}[${d0},${d1},${d2}]${contiguous ? '' : `{${v.strides.join(',')}}`}`;
}

export function printInstr(ins: Instr): string {
  const rec = ins as unknown as Record<string, unknown>;
  const views = OP_SPEC.get(ins.op)!.views;
  let slot = 0;
  let out = mnemonic(ins);
  for (const e of syntaxOf(ins.op, ins.op === 'matmul' && ins.accumulate)) {
    if (e === ',') out += ',';
    else if (e === 'view') out += ' ' + printView(rec[views[slot++]!] as View);
    else if (e === 'tag') out += ` t${rec.tag as number}`;
    else if (e === 'sem') out += ` s${rec.sem as number}`;
    else if (e === 'count') out += ` ${rec.count as number}`;
    else if (e === 'imm') out += ` ${printImm(rec.imm as number)}`;
    else out += ` ${e}`;
  }
  return out;
}

/** Deterministic: parse(print(p)) deep-equals p, and print(parse(t)) === t for printed t. */
export function printNpuAsm(p: NpuProgram): string {
  const out = [`program ${JSON.stringify(p.name)}`];
  p.engines.forEach((list, i) => {
    out.push(`engine ${i}:`);
    for (const ins of list) out.push(`  ${printInstr(ins)}`);
  });
  return out.join('\n') + '\n';
}
