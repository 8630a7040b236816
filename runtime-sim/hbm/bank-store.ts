// The contents of one pseudo-channel's DRAM: 16 banks of rows of 32 bursts of
// 16 FP16 lanes. Sparse: a row exists once written (unwritten rows read as 0),
// so a simulated 24 GiB device costs only what the kernel touches.

export const LANES = 16;
export const BURSTS_PER_ROW = 32;
const ROW_LANES = LANES * BURSTS_PER_ROW;

export class BankStore {
  private readonly rows: Map<number, Uint16Array>[];
  private static readonly ZERO = new Uint16Array(ROW_LANES);
  // The last row looked up per bank: a DRAM row is read burst after burst.
  private readonly lastRow: Int32Array;
  private readonly lastData: Uint16Array[];

  constructor(readonly banks = 16) {
    this.rows = Array.from({ length: banks }, () => new Map());
    this.lastRow = new Int32Array(banks).fill(-1);
    this.lastData = Array.from({ length: banks }, () => BankStore.ZERO);
  }

  /** The row's lanes (a live view; allocated on first use when `create`). */
  row(bank: number, row: number, create = false): Uint16Array {
    if (this.lastRow[bank] === row && (this.lastData[bank] !== BankStore.ZERO || !create)) return this.lastData[bank]!;
    const m = this.rows[bank]!;
    let r = m.get(row);
    if (!r) {
      if (!create) return BankStore.ZERO;
      r = new Uint16Array(ROW_LANES);
      m.set(row, r);
    }
    this.lastRow[bank] = row;
    this.lastData[bank] = r;
    return r;
  }

  /** Offset of a burst's first lane within its row. */
  static offset(col: number): number {
    return col * LANES;
  }

  readBurst(bank: number, row: number, col: number, out: Uint16Array, at = 0): void {
    const r = this.row(bank, row);
    const o = col * LANES;
    for (let i = 0; i < LANES; i++) out[at + i] = r[o + i]!;
  }

  writeBurst(bank: number, row: number, col: number, lanes: ArrayLike<number>, from = 0): void {
    const r = this.row(bank, row, true);
    const o = col * LANES;
    for (let i = 0; i < LANES; i++) r[o + i] = lanes[from + i]!;
  }

  /** Bytes of rows allocated (for stats). */
  get allocatedBytes(): number {
    return this.rows.reduce((s, m) => s + m.size * ROW_LANES * 2, 0);
  }
}
