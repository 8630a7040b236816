// The text form of CRF programs and pseudo-channel command streams (.pimasm,
// docs/hbm-pim-asm.md): a chevrotain parser, a deterministic printer, and the
// assemble / disassemble pair the CLI calls.
//
// As in ir/parser.ts, grammar and meaning stay apart: the parser collects
// tokens, build*() checks them. Instruction lines are read generically
// (mnemonic, operands, flags) and given meaning by the ISA table (isa.ts), so
// the assembler names no opcode. Whatever the input, a problem is a PimcError
// PIMC0909 with a line:col.

import {
  createToken, EmbeddedActionsParser, Lexer,
  type IToken, type TokenType,
} from '../../ir/chevrotain.js';
import { fail, q } from '../../ir/diagnostics.js';
import { label, parseText, syntaxMessages } from '../../ir/syntax.js';
import { isLoop, type Command, type CommandKind, type PchStream, type StreamItem } from '../../runtime-sim/hbm/stream.js';
import {
  checkStream, COMMAND_KINDS, decodeUnit, encodeUnit, LIMITS, nameProblem,
  type CrfProgram, type PchStreamUnit, type PimAsmUnit,
} from './binary.js';
import { CRF_ENTRIES, fieldMax, formatInstr, OP_SPEC, OPERAND, OPERAND_NAMES, PIM_OPS, pimInstr, type OperandName, type PimInstr, type PimOp } from './isa.js';

export interface AsmOptions {
  /** Named in error messages. */
  fileName?: string;
}

// ---- tokens ------------------------------------------------------------------

const NUM = '(?:0x[0-9a-fA-F]+|\\d+)';
const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });
const Str = createToken({ name: 'Str', pattern: /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/, label: 'a string' });
const Label = createToken({ name: 'Label', pattern: new RegExp(`${NUM}:`), label: "a burst index 'N:'" });
const Num = createToken({ name: 'Num', pattern: new RegExp(`-?${NUM}`), label: 'a number' });
const punct = (name: string, ch: string) => createToken({ name, pattern: ch, label: `'${ch}'` });
const LBrace = punct('LBrace', '{'), RBrace = punct('RBrace', '}');
const LBracket = punct('LBracket', '['), RBracket = punct('RBracket', ']');
const Comma = punct('Comma', ','), Semi = punct('Semi', ';'), Pipe = punct('Pipe', '|');

const Word = createToken({ name: 'Word', pattern: Lexer.NA, label: 'a name' });
const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*/, categories: [Word], label: 'a name' });
// Command addresses: b3, r0x3fff, c12 (a longer name such as `b3x` is an Ident).
const addr = (name: string, ch: string, label: string) =>
  createToken({ name, pattern: new RegExp(`${ch}${NUM}`), longer_alt: Ident, label });
const Bank = addr('Bank', 'b', "a bank 'bN'"), Row = addr('Row', 'r', "a row 'rN'"), Col = addr('Col', 'c', "a column 'cN'");
// Keywords are Words too, so a tag or program may be named like one.
const kw = (word: string) =>
  createToken({ name: `Kw_${word}`, pattern: new RegExp(word), longer_alt: Ident, categories: [Word], label: `'${word}'` });
const KwProgram = kw('program'), KwStream = kw('stream'), KwPch = kw('pch'), KwTags = kw('tags'), KwTag = kw('tag');
const KwReadback = kw('readback'), KwData = kw('data'), KwBursts = kw('bursts'), KwLoop = kw('loop'), KwStep = kw('step');
const KwRow = kw('row'), KwCol = kw('col'), KwFollow = kw('follow');
const KIND_TOKENS = new Map<CommandKind, TokenType>(COMMAND_KINDS.map((k) => [k, kw(k)]));

// Order: strings first; labels before numbers; addresses and keywords (tags before tag)
// before the Ident they are a longer_alt of.
const KEYWORDS = [KwProgram, KwStream, KwPch, KwTags, KwTag, KwReadback, KwData, KwBursts, KwLoop, KwStep, KwRow, KwCol, KwFollow, ...KIND_TOKENS.values()];
const TOKENS: TokenType[] = [
  WhiteSpace, Comment, Str, Label, Num, LBrace, RBrace, LBracket, RBracket, Comma, Semi, Pipe,
  Bank, Row, Col, Word, ...KEYWORDS, Ident,
];
const WORD_TYPES = new Set<TokenType>([Ident, ...KEYWORDS]);

// ---- syntax tree ----------------------------------------------------------------

interface OperandAst { word?: IToken; num?: IToken; index?: IToken }
interface InstrAst { mnemonic: IToken; operands: OperandAst[] }
interface ProgramAst { kind: 'program'; name: IToken; instrs: InstrAst[] }
interface FieldAst { key: IToken; values: IToken[] }
interface CommandAst { kind: 'cmd'; op: IToken; fields: FieldAst[] }
interface LoopAst { kind: 'loop'; head: IToken; count: IToken; steps: FieldAst[]; body: ItemAst[] }
type ItemAst = CommandAst | LoopAst;
interface BurstAst { label: IToken; lanes: IToken[] }
interface StreamAst { kind: 'stream'; pch: IToken; headers: { key: IToken; values: IToken[]; bursts?: BurstAst[] }[]; items: ItemAst[] }

// ---- grammar -----------------------------------------------------------------

const MESSAGES = syntaxMessages((f) => `unexpected ${f} after the closing '}'`);

class AsmParser extends EmbeddedActionsParser {
  constructor() {
    super(TOKENS, { errorMessageProvider: MESSAGES });
    this.performSelfAnalysis();
  }

  file = this.RULE('file', (): ProgramAst | StreamAst => this.OR([
    { ALT: () => this.SUBRULE(this.program) },
    { ALT: () => this.SUBRULE(this.stream) },
  ]));

  /** One instruction alone (parseInstr). */
  instrOnly = this.RULE('instrOnly', (): InstrAst => this.SUBRULE(this.instr));

  private nameRule = this.RULE('nameRule', (): IToken => this.OR([{ ALT: () => this.CONSUME(Word) }, { ALT: () => this.CONSUME(Str) }]));

  private program = this.RULE('program', (): ProgramAst => {
    this.CONSUME(KwProgram);
    const name = this.SUBRULE(this.nameRule);
    this.CONSUME(LBrace);
    const instrs: InstrAst[] = [];
    this.MANY(() => this.OR([{ ALT: () => { this.CONSUME(Semi); } }, { ALT: () => { instrs.push(this.SUBRULE(this.instr)); } }]));
    this.CONSUME(RBrace);
    return { kind: 'program', name, instrs };
  });

  // Operands start on the mnemonic's line (one instruction per line); after a comma they may continue.
  private instr = this.RULE('instr', (): InstrAst => {
    const mnemonic = this.CONSUME(Word);
    const operands: OperandAst[] = [];
    this.OPTION({
      GATE: () => this.LA(1).startLine === mnemonic.startLine,
      DEF: () => this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => { operands.push(this.SUBRULE(this.operand)); } }),
    });
    return { mnemonic, operands };
  });

  private operand = this.RULE('operand', (): OperandAst => this.OR([
    { ALT: () => ({ num: this.CONSUME(Num) }) },
    {
      ALT: () => {
        const word = this.CONSUME(Word);
        const index = this.OPTION(() => { this.CONSUME(LBracket); const n = this.CONSUME1(Num); this.CONSUME(RBracket); return n; });
        return { word, index };
      },
    },
  ]));

  private stream = this.RULE('stream', (): StreamAst => {
    this.CONSUME(KwStream);
    this.CONSUME(KwPch);
    const pch = this.CONSUME(Num);
    this.CONSUME(LBrace);
    const headers: StreamAst['headers'] = [];
    this.MANY(() => { headers.push(this.SUBRULE(this.header)); });
    const items = this.SUBRULE(this.items);
    this.CONSUME(RBrace);
    return { kind: 'stream', pch, headers, items };
  });

  private header = this.RULE('header', (): StreamAst['headers'][number] => this.OR([
    {
      ALT: () => {
        const key = this.CONSUME(KwTags);
        this.CONSUME(LBracket);
        const values: IToken[] = [];
        this.MANY_SEP({ SEP: Comma, DEF: () => { values.push(this.SUBRULE(this.nameRule)); } });
        this.CONSUME(RBracket);
        return { key, values };
      },
    },
    { ALT: () => ({ key: this.CONSUME(KwReadback), values: [this.CONSUME(Num)] }) },
    {
      ALT: () => {
        const key = this.CONSUME(KwData);
        const count = this.CONSUME1(Num);
        this.CONSUME(KwBursts);
        this.CONSUME1(LBrace);
        const bursts: BurstAst[] = [];
        this.MANY1(() => {
          const lbl = this.CONSUME(Label);
          const lanes: IToken[] = [];
          this.MANY2(() => { lanes.push(this.CONSUME2(Num)); });
          bursts.push({ label: lbl, lanes });
        });
        this.CONSUME1(RBrace);
        return { key, values: [count], bursts };
      },
    },
  ]));

  private items = this.RULE('items', (): ItemAst[] => {
    const out: ItemAst[] = [];
    this.MANY(() => this.OR([
      { ALT: () => { this.CONSUME(Semi); } },
      { ALT: () => { out.push(this.SUBRULE(this.command)); } },
      { ALT: () => { out.push(this.SUBRULE(this.loop)); } },
    ]));
    return out;
  });

  private command = this.RULE('command', (): CommandAst => {
    const op = this.OR(COMMAND_KINDS.map((k) => ({ ALT: () => this.CONSUME(KIND_TOKENS.get(k)!) })));
    const fields: FieldAst[] = [];
    this.MANY(() => fields.push(this.OR1([
      { ALT: () => ({ key: this.CONSUME(Bank), values: [] }) },
      { ALT: () => ({ key: this.CONSUME(Row), values: [] }) },
      { ALT: () => ({ key: this.CONSUME(Col), values: [] }) },
      { ALT: () => ({ key: this.CONSUME(KwData), values: [this.CONSUME(Num)] }) },
      { ALT: () => ({ key: this.CONSUME(KwTag), values: [this.SUBRULE(this.nameRule)] }) },
      {
        ALT: () => {
          const key = this.CONSUME(KwFollow);
          const values: IToken[] = [];
          this.AT_LEAST_ONE_SEP({ SEP: Pipe, DEF: () => values.push(this.SUBRULE(this.axis)) });
          return { key, values };
        },
      },
    ])));
    return { kind: 'cmd', op, fields };
  });

  private axis = this.RULE('axis', (): IToken => this.OR([
    { ALT: () => this.CONSUME(KwRow) }, { ALT: () => this.CONSUME(KwCol) }, { ALT: () => this.CONSUME(KwData) },
  ]));

  private loop = this.RULE('loop', (): LoopAst => {
    const head = this.CONSUME(KwLoop);
    const count = this.CONSUME(Num);
    const steps: FieldAst[] = [];
    this.OPTION(() => {
      this.CONSUME(KwStep);
      this.AT_LEAST_ONE(() => { const key = this.SUBRULE(this.axis); steps.push({ key, values: [this.CONSUME1(Num)] }); });
    });
    this.CONSUME(LBrace);
    const body = this.SUBRULE(this.items);
    this.CONSUME(RBrace);
    return { kind: 'loop', head, count, steps, body };
  });
}

// Built once: chevrotain's grammar analysis is the expensive part.
const LEXER = new Lexer(TOKENS, { positionTracking: 'onlyStart' });
const PARSER = new AsmParser();

// ---- entry points ------------------------------------------------------------

/** Reads a .pimasm text: one `program` or one `stream`. */
export function parseAsm(text: string, opts: AsmOptions = {}): PimAsmUnit {
  return withSyntax(text, opts, (p) => p.file(), (ast, b) => (ast.kind === 'program' ? b.program(ast) : b.stream(ast)));
}

/** One instruction, as written inside a program: `MAC GRF_B, GRF_A, EVEN_BANK, aam`. */
export function parseInstr(text: string, opts: AsmOptions = {}): PimInstr {
  return withSyntax(text, opts, (p) => p.instrOnly(), (ast, b) => b.instr(ast));
}

/** Text to binary (PIMP or PIMS), as `pimc asm` writes it. */
export function assemble(text: string, opts: AsmOptions = {}): Uint8Array {
  return encodeUnit(parseAsm(text, opts));
}

/** Binary to canonical text, as `pimc disasm` prints it. */
export function disassemble(bytes: Uint8Array, opts: AsmOptions = {}): string {
  return printAsm(decodeUnit(bytes, opts.fileName ? `PIM binary ${q(opts.fileName)}` : 'PIM binary'));
}

function withSyntax<A, R>(text: string, opts: AsmOptions, rule: (p: AsmParser) => A, build: (ast: A, b: Builder) => R): R {
  return parseText(text, { code: 'PIMC0909', what: 'assembly text', fileName: opts.fileName }, LEXER, PARSER, () => rule(PARSER), (ast, at) => build(ast, new Builder(at)));
}


// ---- meaning -----------------------------------------------------------------

const AXES = ['row', 'col', 'data'] as const;
const FOLLOW_BITS = { row: 1, col: 2, data: 4 } as const;

class Builder {
  constructor(private readonly at: (t: IToken) => string) {}

  private bad(what: string, t: IToken): never {
    return fail('PIMC0909', `assembly text does not parse: ${what} ${this.at(t)}`);
  }

  private int(t: IToken, min: number, max: number, what: string): number {
    const neg = t.image.startsWith('-');
    const v = (neg ? -1 : 1) * Number(neg ? t.image.slice(1) : t.image);
    if (!Number.isSafeInteger(v) || v < min || v > max) this.bad(`${what} ${t.image} is outside ${min}..${max}`, t);
    return v === 0 ? 0 : v; // no -0
  }

  private name(t: IToken): string {
    let s = t.image;
    if (t.tokenType === Str) {
      try {
        s = JSON.parse(t.image) as string;
      } catch {
        return this.bad(`bad string ${t.image}`, t);
      }
    }
    const p = nameProblem(s);
    if (p) this.bad(p, t);
    return s;
  }

  program(ast: ProgramAst): CrfProgram {
    if (ast.instrs.length > CRF_ENTRIES) this.bad(`program has ${ast.instrs.length} instructions; the CRF holds ${CRF_ENTRIES}`, ast.instrs[CRF_ENTRIES]!.mnemonic);
    return { kind: 'program', name: this.name(ast.name), instrs: ast.instrs.map((i) => this.instr(i)) };
  }

  /** Mnemonic, operands, then flags, all as the ISA table says. */
  instr(ast: InstrAst): PimInstr {
    const m = ast.mnemonic;
    const spec = OP_SPEC.get(m.image as PimOp);
    if (!spec) return this.bad(`unknown instruction ${q(m.image)}; expected one of ${PIM_OPS.join(', ')}`, m);
    const instr = pimInstr(spec.op);
    const ops = [...ast.operands];
    for (let last = ops[ops.length - 1]; last?.word && !last.index && (last.word.image === 'aam' || last.word.image === 'relu'); last = ops[ops.length - 1]) {
      const flag = last.word.image as 'aam' | 'relu';
      if (!spec.flags.includes(flag)) this.bad(`${spec.op} has no ${flag} flag`, last.word);
      if (instr[flag]) this.bad(`flag ${flag} is given twice`, last.word);
      instr[flag] = true;
      ops.pop();
    }
    if (ops.length !== spec.syntax.length) {
      const want = spec.syntax.map((s) => s.field).join(', ') || 'none';
      this.bad(`${spec.op} takes ${spec.syntax.length} operand(s) (${want}), found ${ops.length}`, ops[spec.syntax.length]?.word ?? ops[spec.syntax.length]?.num ?? m);
    }
    const max = (key: string) => fieldMax(spec.fields.find((fd) => fd.key === key)!);
    spec.syntax.forEach((slot, i) => {
      const o = ops[i]!;
      const tok = (o.word ?? o.num)!;
      if (slot.kind === 'reg') {
        if (!o.word || !OPERAND_NAMES.includes(o.word.image as OperandName)) this.bad(`${spec.op} ${slot.field}: expected one of ${OPERAND_NAMES.join(', ')}, found ${q(tok.image)}`, tok);
        instr[slot.field] = OPERAND[o.word.image as OperandName];
        if (o.index) {
          if (!slot.index) this.bad(`${spec.op} ${slot.field} takes no index`, o.index);
          instr[slot.index] = this.int(o.index, 0, max(slot.index), `${slot.field} index`);
        }
      } else {
        if (!o.num) this.bad(`${spec.op} ${slot.field}: expected a number, found ${q(tok.image)}`, tok);
        if (slot.kind === 'imm') instr[slot.field] = this.int(o.num, 0, max(slot.field), slot.field);
        // A jump N instructions back is written -N; `|| 0` keeps -0 out of the record.
        else instr[slot.field] = -this.int(o.num, -max(slot.field), 0, `${slot.field} (a backward jump, written -N)`) || 0;
      }
    });
    return instr;
  }

  stream(ast: StreamAst): PchStreamUnit {
    const pch = this.int(ast.pch, 0, LIMITS.maxUint, 'pCH');
    const seen = new Set<string>();
    const tags: string[] = [];
    let readbackBursts = 0;
    let data: Uint16Array = new Uint16Array(0);
    for (const h of ast.headers) {
      if (seen.has(h.key.image)) this.bad(`${h.key.image} is given twice`, h.key);
      seen.add(h.key.image);
      if (h.key.tokenType === KwTags) {
        for (const t of h.values) {
          const s = this.name(t);
          if (tags.includes(s)) this.bad(`tag ${q(s)} is given twice`, t);
          if (tags.length === LIMITS.maxTags) this.bad(`more than ${LIMITS.maxTags} tags`, t);
          tags.push(s);
        }
      } else if (h.key.tokenType === KwReadback) {
        readbackBursts = this.int(h.values[0]!, 0, LIMITS.maxUint, 'readback');
      } else {
        data = this.dataTable(this.int(h.values[0]!, 0, LIMITS.maxDataBursts, 'data bursts'), h.bursts ?? []);
      }
    }
    const tagOf = (t: IToken): number => {
      const i = tags.indexOf(this.name(t));
      if (i < 0) this.bad(`tag ${t.image} is not declared in tags [...]`, t);
      return i;
    };
    const items = this.items(ast.items, 0, tagOf);
    const stream: PchStream = { items, data, tags, readbackBursts };
    checkStream(stream, `pCH ${pch}`); // cannot fail after the checks above; kept as the contract
    return { kind: 'stream', pch, stream };
  }

  private dataTable(count: number, bursts: BurstAst[]): Uint16Array {
    const data = new Uint16Array(count * 16);
    let next = 0;
    for (const b of bursts) {
      const idx = this.int({ ...b.label, image: b.label.image.slice(0, -1) }, next, count - 1, 'burst index (ascending, below the burst count)');
      if (b.lanes.length !== 16) this.bad(`burst ${idx} has ${b.lanes.length} lanes, a burst has 16`, b.label);
      b.lanes.forEach((t, i) => { data[idx * 16 + i] = this.int(t, 0, 0xffff, 'lane'); });
      next = idx + 1;
    }
    return data;
  }

  private items(list: ItemAst[], depth: number, tagOf: (t: IToken) => number): StreamItem[] {
    return list.map((it): StreamItem => {
      if (it.kind === 'loop') {
        if (depth >= LIMITS.maxLoopDepth) this.bad(`loops nest deeper than ${LIMITS.maxLoopDepth}`, it.head);
        const step = { row: 0, col: 0, data: 0 };
        const given = new Set<string>();
        for (const s of it.steps) {
          const k = s.key.image as (typeof AXES)[number];
          if (given.has(k)) this.bad(`step ${k} is given twice`, s.key);
          given.add(k);
          step[k] = this.int(s.values[0]!, -0x80000000, 0x7fffffff, `step ${k}`);
        }
        return { kind: 'LOOP', count: this.int(it.count, 0, LIMITS.maxUint, 'loop count'), step, body: this.items(it.body, depth + 1, tagOf) };
      }
      const c: Command = { kind: it.op.image as CommandKind, bank: 0, row: 0, col: 0, data: -1, tag: -1, follow: 0 };
      const given = new Set<TokenType>();
      for (const f of it.fields) {
        const t = f.key.tokenType;
        if (given.has(t)) this.bad(`${label(t)} is given twice`, f.key);
        given.add(t);
        if (t === Bank || t === Row || t === Col) {
          const k = t === Bank ? 'bank' : t === Row ? 'row' : 'col';
          c[k] = this.int({ ...f.key, image: f.key.image.slice(1) }, 0, LIMITS.maxUint, k);
        } else if (t === KwData) {
          c.data = this.int(f.values[0]!, -1, LIMITS.maxUint, 'data');
        } else if (t === KwTag) {
          c.tag = tagOf(f.values[0]!);
        } else {
          for (const a of f.values) {
            const bit = FOLLOW_BITS[a.image as (typeof AXES)[number]];
            if (c.follow & bit) this.bad(`follow ${a.image} is given twice`, a);
            c.follow |= bit;
          }
        }
      }
      return c;
    });
  }
}

// ---- printing ----------------------------------------------------------------

/** A name as written: bare when it reads back as one name token, else a JSON string. */
function printName(s: string): string {
  const lexed = LEXER.tokenize(s);
  const t = lexed.tokens[0];
  const bare = lexed.errors.length === 0 && lexed.tokens.length === 1 && t!.image === s && WORD_TYPES.has(t!.tokenType);
  return bare ? s : JSON.stringify(s);
}

export function printProgram(p: CrfProgram): string {
  return `program ${printName(p.name)} {\n${p.instrs.map((i) => `  ${formatInstr(i)}\n`).join('')}}\n`;
}

const hex = (v: number, pad = 0) => `0x${v.toString(16).padStart(pad, '0')}`;

/** Deterministic: print(parse(print(s))) === print(s) for every stream checkStream accepts. */
export function printStream(u: PchStreamUnit): string {
  const s = u.stream;
  checkStream(s, `pCH ${u.pch}`);
  const out: string[] = [`stream pch ${u.pch} {`];
  if (s.tags.length) out.push(`  tags [${s.tags.map(printName).join(', ')}]`);
  if (s.readbackBursts) out.push(`  readback ${s.readbackBursts}`);
  const bursts = s.data.length / 16;
  if (bursts) {
    // All-zero bursts are left out: the table is zero-filled.
    const lines: string[] = [];
    for (let b = 0; b < bursts; b++) {
      const lanes = s.data.subarray(b * 16, b * 16 + 16);
      if (lanes.some((v) => v !== 0)) lines.push(`    ${b}: ${Array.from(lanes, (v) => hex(v, 4)).join(' ')}`);
    }
    out.push(lines.length ? `  data ${bursts} bursts {\n${lines.join('\n')}\n  }` : `  data ${bursts} bursts {}`);
  }
  const walk = (items: readonly StreamItem[], indent: string) => {
    for (const it of items) {
      if (isLoop(it)) {
        const steps = AXES.filter((k) => it.step[k] !== 0).map((k) => `${k} ${it.step[k]}`);
        out.push(`${indent}loop ${it.count}${steps.length ? ` step ${steps.join(' ')}` : ''} {`);
        walk(it.body, indent + '  ');
        out.push(`${indent}}`);
      } else {
        out.push(indent + printCommand(it, s.tags));
      }
    }
  };
  walk(s.items, '  ');
  out.push('}');
  return out.join('\n') + '\n';
}

/** `RD b0 r0 c3 data 3 tag MAC follow row|col`: addresses a kind uses always, others only when set. */
function printCommand(c: Command, tags: readonly string[]): string {
  const column = c.kind === 'RD' || c.kind === 'WR';
  const parts: string[] = [c.kind];
  if (c.kind !== 'REF' || c.bank) parts.push(`b${c.bank}`);
  if (column || c.kind === 'ACT' || c.row) parts.push(c.row >= 0x1000 ? `r${hex(c.row)}` : `r${c.row}`);
  if (column || c.col) parts.push(`c${c.col}`);
  if (c.data !== -1) parts.push(`data ${c.data}`);
  if (c.tag !== -1) parts.push(`tag ${printName(tags[c.tag]!)}`);
  if (c.follow) parts.push(`follow ${AXES.filter((k) => c.follow & FOLLOW_BITS[k]).join('|')}`);
  return parts.join(' ');
}

export function printAsm(u: PimAsmUnit): string {
  return u.kind === 'program' ? printProgram(u) : printStream(u);
}
