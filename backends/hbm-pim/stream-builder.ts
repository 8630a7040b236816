// A small builder for pseudo-channel command streams: kernels read as the
// command sequences they emit, loops stay loops.

import {
  FOLLOW_COL, FOLLOW_DATA, FOLLOW_ROW, ROWS, CONFIG_COLS,
  type Command, type CommandKind, type Loop, type PchStream, type StreamItem,
} from '../../runtime-sim/hbm/stream.js';

export { FOLLOW_COL, FOLLOW_DATA, FOLLOW_ROW };

export interface ColOptions {
  data?: number;
  tag?: string;
  follow?: number;
}

/** Bursts of 16 FP16 lanes, appended as the stream is built. */
export class DataTable {
  private chunks: Uint16Array[] = [];
  private bursts = 0;

  /** Adds bursts (16 lanes each) and returns the index of the first. */
  add(lanes: Uint16Array): number {
    if (lanes.length % 16) throw new Error(`internal: burst data must be a multiple of 16 lanes, got ${lanes.length}`);
    const at = this.bursts;
    this.chunks.push(lanes);
    this.bursts += lanes.length / 16;
    return at;
  }

  get size(): number {
    return this.bursts;
  }

  build(): Uint16Array {
    const out = new Uint16Array(this.bursts * 16);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** Banks in the order the park visits them: bank groups in turn. */
const PARK_ORDER = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];

export class StreamBuilder {
  readonly data = new DataTable();
  private readonly tags: string[] = [];
  private readonly stack: StreamItem[][] = [[]];
  readbackBursts = 0;

  private tagIndex(tag: string | undefined): number {
    if (!tag) return -1;
    let i = this.tags.indexOf(tag);
    if (i < 0) i = this.tags.push(tag) - 1;
    return i;
  }

  private push(kind: CommandKind, bank: number, row: number, col: number, o: ColOptions = {}): this {
    const c: Command = { kind, bank, row, col, data: o.data ?? -1, tag: this.tagIndex(o.tag), follow: o.follow ?? 0 };
    this.stack[this.stack.length - 1]!.push(c);
    return this;
  }

  act(bank: number, row: number, o: ColOptions = {}): this {
    return this.push('ACT', bank, row, 0, o);
  }

  pre(bank: number, o: ColOptions = {}): this {
    return this.push('PRE', bank, 0, 0, o);
  }

  rd(bank: number, row: number, col: number, o: ColOptions = {}): this {
    return this.push('RD', bank, row, col, o);
  }

  wr(bank: number, row: number, col: number, o: ColOptions = {}): this {
    return this.push('WR', bank, row, col, o);
  }

  ref(): this {
    return this.push('REF', 0, 0, 0);
  }

  /** A loop whose body is built by `body`; fields advance by `step` per iteration. */
  loop(count: number, step: Partial<Loop['step']>, body: (b: this) => void): this {
    if (count <= 0) return this;
    this.stack.push([]);
    body(this);
    const items = this.stack.pop()!;
    const loop: Loop = { kind: 'LOOP', count, body: items, step: { row: step.row ?? 0, col: step.col ?? 0, data: step.data ?? 0 } };
    this.stack[this.stack.length - 1]!.push(loop);
    return this;
  }

  // ---- the mode rituals of HARDWARE.md 3.3 -------------------------------

  /**
   * ACT + RD to the park row in all 16 banks (before and after a PIM
   * kernel), bank groups in turn so that ACTs go tRRD_S apart: bank i is read
   * once open and closed four banks later, when tRAS has passed, so that no
   * command waits behind a PRE. `keepLast` leaves the last four PREs to the
   * caller, to overlap with what comes next.
   */
  park(tag: string, keepLast = false): number[] {
    const order = PARK_ORDER;
    order.slice(0, 4).forEach((b, i) => this.act(b, ROWS.park, { tag: i === 0 ? tag : undefined }));
    order.forEach((b, i) => {
      this.rd(b, ROWS.park, 0);
      if (i + 4 < order.length) this.act(order[i + 4]!, ROWS.park);
      if (i >= 4) this.pre(order[i - 4]!);
    });
    const left = order.slice(-4);
    if (!keepLast) for (const b of left) this.pre(b);
    return keepLast ? left : [];
  }

  /**
   * Park, then SB -> AB: ACT (and a WR to column 31) to row 0x17FF in banks
   * 0, 8, 1 and 9; the park's last PREs go between those ACTs (other banks,
   * still SB mode until the fourth ACT).
   */
  parkAndEnterAllBank(): this {
    const left = this.park('PARK_IN', true);
    const banks = [0, 8, 1, 9];
    // the fourth ACT switches to AB mode, where a PRE would reach a whole parity: the park's PREs go before it
    banks.forEach((b, i) => {
      if (i === 3) this.pre(left[3]!);
      this.act(b, ROWS.sbToAb, { tag: i === 0 ? 'SB_TO_AB' : undefined });
      if (i < 3) this.pre(left[i]!);
    });
    for (const b of banks) this.wr(b, ROWS.sbToAb, 31);
    for (const b of banks) this.pre(b);
    return this;
  }

  /** AB -> SB: ACT (and a WR to column 31) to row 0x1FFF in banks 0 and 1, then PRE both. */
  leaveAllBank(): this {
    this.act(0, ROWS.abToSb, { tag: 'AB_TO_SB' }).wr(0, ROWS.abToSb, 31);
    this.act(1, ROWS.abToSb).wr(1, ROWS.abToSb, 31);
    return this.pre(0).pre(1);
  }

  /** Writes bursts to the configuration row (open in `bank`'s parity) starting at `col`. */
  configWrite(bank: number, col: number, lanes: Uint16Array, tag?: string): this {
    const first = this.data.add(lanes);
    for (let i = 0; i < lanes.length / 16; i++) this.wr(bank, ROWS.config, col + i, { data: first + i, tag: i === 0 ? tag : undefined });
    return this;
  }

  build(): PchStream {
    if (this.stack.length !== 1) throw new Error('internal: unclosed loop');
    return { items: this.stack[0]!, data: this.data.build(), tags: [...this.tags], readbackBursts: this.readbackBursts };
  }
}

export { CONFIG_COLS, ROWS };
