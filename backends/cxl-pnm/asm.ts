// The text form of PNM programs (.pnmasm, docs/cxl-pnm.md): a deterministic
// printer and a chevrotain parser; parse(print(p)) deep-equals p.
//
//   pnm "decode_attention" {
//     %0 = f16[1, 32, 1, 128] strides [4096, 128, 128, 1] at 0x0
//     %1 = f16[1, 8, 1024, 128] strides [2097152, 262144, 128, 1] at 0x2000
//     unit 0 {
//       attention %3, %0, %1, %2 scale=0.088388346
//       gelu.tanh %5, %4
//     }
//   }
//
// Tensors are declared in id order, units in queue order. An instruction is
// its mnemonic with flags as dot suffixes, the output and input ids (a
// trailing optional input left out), then `name=value` for the immediate (a float one is rounded to float32).
// Grammar and meaning stay apart: the parser collects tokens, Builder checks
// them against the ISA table. Every problem is PIMC1205 with line:col.

import {
  createToken, EmbeddedActionsParser, Lexer,
  type IToken, type TokenType,
} from '../../ir/chevrotain.js';
import { fail, q } from '../../ir/diagnostics.js';
import { syntaxMessages, parseText } from '../../ir/syntax.js';
import { NO_TENSOR, type Descriptor, type PnmDtype, type PnmOp, type PnmProgram, type TensorEntry } from './instr.js';
import { descriptorProblem, DTYPE_CODE, entryProblem, MAX_TABLE_ENTRIES, OP_SPEC, SLOTS } from './isa.js';

// ---- printing ------------------------------------------------------------------

/** A float32 immediate: the shortest decimal that reads back as the same value. */
export function formatImm(v: number): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return Object.is(v, -0) ? '-0' : String(v);
}

export function formatEntry(id: number, e: TensorEntry): string {
  return `%${id} = ${e.dtype}[${e.dims.join(', ')}] strides [${e.strides.join(', ')}] at 0x${e.addr.toString(16)}`;
}

export function formatDescriptor(d: Descriptor): string {
  const spec = OP_SPEC.get(d.op)!;
  const flags = spec.flags.filter((_, i) => d.flags & (1 << i)).map((f) => `.${f}`).join('');
  const ids = [d.out, ...SLOTS.slice(0, spec.ins.length).map((s) => d[s])];
  while (ids.length > 1 && ids[ids.length - 1] === NO_TENSOR) ids.pop(); // absent optional inputs are trailing
  const imm = spec.imm === 'none' ? '' : ` ${spec.immName}=${spec.imm === 'f32' ? formatImm(d.imm) : d.imm}`;
  return `${d.op}${flags} ${ids.map((i) => `%${i}`).join(', ')}${imm}`;
}

export function printPnm(p: PnmProgram): string {
  const lines = [`pnm ${JSON.stringify(p.name)} {`];
  p.table.forEach((e, i) => lines.push(`  ${formatEntry(i, e)}`));
  p.queues.forEach((qu, u) => {
    lines.push(`  unit ${u} {`);
    for (const d of qu) lines.push(`    ${formatDescriptor(d)}`);
    lines.push('  }');
  });
  lines.push('}');
  return lines.join('\n') + '\n';
}

// ---- tokens ----------------------------------------------------------------------

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });
const Str = createToken({ name: 'Str', pattern: /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/, label: 'a string' });
const TensorId = createToken({ name: 'TensorId', pattern: /%\d+/, label: "a tensor id '%N'" });
const Num = createToken({ name: 'Num', pattern: /-?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/, label: 'a number' });
// `scale=` as one token, so an immediate is told from the next instruction's mnemonic without lookahead.
const ImmKey = createToken({ name: 'ImmKey', pattern: /[A-Za-z_][A-Za-z0-9_]*=/, label: "an immediate 'name='" });
const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_.]*/, label: 'a name' });
const Inf = createToken({ name: 'Inf', pattern: /-?inf/, longer_alt: Ident, label: 'a number' });
const kw = (word: string) => createToken({ name: `Kw_${word}`, pattern: new RegExp(word), longer_alt: Ident, label: `'${word}'` });
const KwPnm = kw('pnm'), KwUnit = kw('unit'), KwStrides = kw('strides'), KwAt = kw('at');
const punct = (name: string, ch: string) => createToken({ name, pattern: ch, label: `'${ch}'` });
const LBrace = punct('LBrace', '{'), RBrace = punct('RBrace', '}'), LBracket = punct('LBracket', '['), RBracket = punct('RBracket', ']');
const Comma = punct('Comma', ','), Eq = punct('Eq', '=');

const TOKENS: TokenType[] = [
  WhiteSpace, Comment, Str, TensorId, Inf, Num, LBrace, RBrace, LBracket, RBracket, Comma, Eq,
  ImmKey, KwPnm, KwUnit, KwStrides, KwAt, Ident,
];

// ---- grammar ---------------------------------------------------------------------

interface EntryAst { id: IToken; dtype: IToken; dims: IToken[]; strides: IToken[]; addr: IToken }
interface InstrAst { mnemonic: IToken; ids: IToken[]; immKey?: IToken; immVal?: IToken }
interface UnitAst { head: IToken; index: IToken; instrs: InstrAst[] }
interface FileAst { name: IToken; entries: EntryAst[]; units: UnitAst[] }

const MESSAGES = syntaxMessages((f) => `unexpected ${f} after the closing '}'`);

class PnmParser extends EmbeddedActionsParser {
  constructor() {
    super(TOKENS, { errorMessageProvider: MESSAGES });
    this.performSelfAnalysis();
  }

  file = this.RULE('file', (): FileAst => {
    this.CONSUME(KwPnm);
    const name = this.CONSUME(Str);
    this.CONSUME(LBrace);
    const entries: EntryAst[] = [], units: UnitAst[] = [];
    this.MANY(() => this.OR([
      { ALT: () => { entries.push(this.SUBRULE(this.entry)); } },
      { ALT: () => { units.push(this.SUBRULE(this.unit)); } },
    ]));
    this.CONSUME(RBrace);
    return { name, entries, units };
  });

  private nums = this.RULE('nums', (): IToken[] => {
    const out: IToken[] = [];
    this.CONSUME(LBracket);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => { out.push(this.CONSUME(Num)); } });
    this.CONSUME(RBracket);
    return out;
  });

  private entry = this.RULE('entry', (): EntryAst => {
    const id = this.CONSUME(TensorId);
    this.CONSUME(Eq);
    const dtype = this.CONSUME(Ident);
    const dims = this.SUBRULE(this.nums);
    this.CONSUME(KwStrides);
    const strides = this.SUBRULE1(this.nums);
    this.CONSUME(KwAt);
    const addr = this.CONSUME(Num);
    return { id, dtype, dims, strides, addr };
  });

  private unit = this.RULE('unit', (): UnitAst => {
    const head = this.CONSUME(KwUnit);
    const index = this.CONSUME(Num);
    this.CONSUME(LBrace);
    const instrs: InstrAst[] = [];
    this.MANY(() => { instrs.push(this.SUBRULE(this.instr)); });
    this.CONSUME(RBrace);
    return { head, index, instrs };
  });

  private instr = this.RULE('instr', (): InstrAst => {
    const mnemonic = this.CONSUME(Ident);
    const ids: IToken[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => { ids.push(this.CONSUME(TensorId)); } });
    const ast: InstrAst = { mnemonic, ids };
    this.OPTION(() => {
      ast.immKey = this.CONSUME(ImmKey);
      ast.immVal = this.OR([{ ALT: () => this.CONSUME1(Num) }, { ALT: () => this.CONSUME(Inf) }]);
    });
    return ast;
  });
}

// Built once: chevrotain's grammar analysis is the expensive part.
const LEXER = new Lexer(TOKENS, { positionTracking: 'onlyStart' });
const PARSER = new PnmParser();

export interface PnmAsmOptions {
  /** Named in error messages. */
  fileName?: string;
}

/** Reads a .pnmasm text. */
export function parsePnm(text: string, opts: PnmAsmOptions = {}): PnmProgram {
  return parseText(text, { code: 'PIMC1205', what: 'PNM assembly', fileName: opts.fileName }, LEXER, PARSER, () => PARSER.file(), (ast, at) => new Builder(at).file(ast));
}


// ---- meaning ---------------------------------------------------------------------

class Builder {
  constructor(private readonly at: (t: IToken) => string) {}

  private bad(what: string, t: IToken): never {
    return fail('PIMC1205', `PNM assembly does not parse: ${what} ${this.at(t)}`);
  }

  /** An integer token (decimal or 0x hex, maybe negative) in min..max. */
  private int(t: IToken, min: number, max: number, what: string): number {
    const neg = t.image.startsWith('-');
    const body = neg ? t.image.slice(1) : t.image;
    const v = (neg ? -1 : 1) * (/^(0x[0-9a-fA-F]+|\d+)$/.test(body) ? Number(body) : NaN);
    if (!Number.isSafeInteger(v) || v < min || v > max) this.bad(`${what} ${t.image} is not an integer in ${min}..${max}`, t);
    return v === 0 ? 0 : v; // no -0
  }

  private id(t: IToken): number {
    const v = Number(t.image.slice(1));
    if (!Number.isSafeInteger(v) || v >= NO_TENSOR) this.bad(`tensor id ${t.image} is not in %0..%${NO_TENSOR - 1}`, t);
    return v;
  }

  file(ast: FileAst): PnmProgram {
    let name: string;
    try {
      name = JSON.parse(ast.name.image) as string;
    } catch {
      return this.bad(`bad string ${ast.name.image}`, ast.name);
    }
    if (ast.entries.length > MAX_TABLE_ENTRIES) this.bad(`more than ${MAX_TABLE_ENTRIES} tensors`, ast.entries[MAX_TABLE_ENTRIES]!.id);
    const table = ast.entries.map((e, i) => this.entry(e, i));
    const queues = ast.units.map((u, i) => {
      if (this.int(u.index, 0, 4095, 'unit') !== i) this.bad(`unit ${u.index.image} out of order; expected unit ${i}`, u.index);
      return u.instrs.map((d) => this.instr(d));
    });
    return { name, table, queues };
  }

  private entry(ast: EntryAst, i: number): TensorEntry {
    if (this.id(ast.id) !== i) this.bad(`tensor ${ast.id.image} out of order; expected %${i}`, ast.id);
    if (!(ast.dtype.image in DTYPE_CODE)) this.bad(`unknown dtype ${q(ast.dtype.image)}; expected f16, f32 or i32`, ast.dtype);
    if (ast.dims.length > 4) this.bad(`${ast.dims.length} dims; a view has at most 4`, ast.dims[4]!);
    if (ast.strides.length !== ast.dims.length) this.bad(`${ast.strides.length} strides for ${ast.dims.length} dims`, ast.strides[0]!);
    const e: TensorEntry = {
      addr: this.int(ast.addr, 0, 2 ** 48 - 1, 'address'),
      dtype: ast.dtype.image as PnmDtype,
      dims: ast.dims.map((t) => this.int(t, 0, 0xffffffff, 'dim')),
      strides: ast.strides.map((t) => this.int(t, -0x80000000, 0x7fffffff, 'stride')),
    };
    const p = entryProblem(e);
    if (p) this.bad(p, ast.id);
    return e;
  }

  private instr(ast: InstrAst): Descriptor {
    const m = ast.mnemonic;
    const [opName, ...flagNames] = m.image.split('.');
    const spec = OP_SPEC.get(opName as PnmOp);
    if (!spec) return this.bad(`unknown instruction ${q(opName!)}; expected one of ${[...OP_SPEC.keys()].join(', ')}`, m);
    let flags = 0;
    for (const f of flagNames) {
      const bit = spec.flags.indexOf(f);
      if (bit < 0) this.bad(`${spec.op} has no flag ${q(f)}${spec.flags.length ? ` (flags: ${spec.flags.join(', ')})` : ''}`, m);
      if (flags & (1 << bit)) this.bad(`flag ${f} is given twice`, m);
      flags |= 1 << bit;
    }
    const required = 1 + spec.ins.filter((_, i) => !spec.optional.includes(SLOTS[i]!)).length;
    const n = ast.ids.length;
    if (n < required || n > 1 + spec.ins.length) {
      this.bad(`${spec.op} takes ${required === 1 + spec.ins.length ? required : `${required} or ${1 + spec.ins.length}`} operands (out, ${spec.ins.join(', ')}), found ${n}`, ast.ids[Math.min(n, 1 + spec.ins.length)] ?? m);
    }
    const ids = ast.ids.map((t) => this.id(t));
    const d: Descriptor = { op: spec.op, flags, out: ids[0]!, in0: ids[1] ?? NO_TENSOR, in1: ids[2] ?? NO_TENSOR, in2: ids[3] ?? NO_TENSOR, imm: 0 };
    if (spec.imm === 'none') {
      if (ast.immKey) this.bad(`${spec.op} takes no immediate`, ast.immKey);
    } else {
      if (!ast.immKey || !ast.immVal) return this.bad(`${spec.op} needs ${spec.immName}=...`, ast.ids[n - 1] ?? m);
      if (ast.immKey.image !== `${spec.immName}=`) this.bad(`${spec.op} takes ${spec.immName}=, found ${ast.immKey.image}`, ast.immKey);
      d.imm = spec.imm === 'u32' ? this.int(ast.immVal, 0, 0xffffffff, spec.immName!) : this.float(ast.immVal, spec.immName!);
    }
    const p = descriptorProblem(d);
    if (p) this.bad(p, m);
    return d;
  }

  private float(t: IToken, what: string): number {
    const s = t.image;
    const v = s === 'inf' ? Infinity : s === '-inf' ? -Infinity : s.includes('0x') ? NaN : Number(s);
    if (Number.isNaN(v)) this.bad(`${what} ${s} is not a number`, t);
    return Math.fround(v); // the descriptor holds a float32: 0.1 means the float32 nearest to it
  }
}
