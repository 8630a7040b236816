// The contents of one pseudo-channel's DRAM: 16 banks of rows of 32 bursts of
// 16 FP16 lanes. Sparse: a row exists once written (unwritten rows read as 0),
// so a simulated 24 GiB device costs only what the kernel touches.
//
// Rows live in slabs of SLAB_ROWS rows, and each bank maps a row number to its
// slot (a small integer): a GEMV lays out tens of thousands of rows, and a
// typed array of its own per row costs an allocation, and the garbage
// collector a live object, each. Bursts are read and written in the slab;
// `row` hands out views. The last row used per bank is remembered (its slot
// and its view), since a DRAM row is used burst after burst.

export const LANES = 16;
export const BURSTS_PER_ROW = 32;
const ROW_LANES = LANES * BURSTS_PER_ROW;
const SLAB_ROWS = 64;

export class BankStore {
  /** Per bank: row number -> slot (slab * SLAB_ROWS + row within the slab). */
  private readonly slots: Map<number, number>[];
  private readonly slabs: Uint16Array[] = [];
  private allocated = 0;
  private static readonly ZERO = new Uint16Array(ROW_LANES);
  /** Per bank, the last row looked up that exists (-1: none yet), its slot, and its view (undefined until asked for). */
  private readonly lastRow: Int32Array;
  private readonly lastSlot: Int32Array;
  private readonly lastView: (Uint16Array | undefined)[];

  constructor(readonly banks = 16) {
    this.slots = Array.from({ length: banks }, () => new Map());
    this.lastRow = new Int32Array(banks).fill(-1);
    this.lastSlot = new Int32Array(banks);
    this.lastView = new Array<Uint16Array | undefined>(banks).fill(undefined);
  }

  /** The row's lanes (a live view; allocated on first use when `create`). */
  row(bank: number, row: number, create = false): Uint16Array {
    const cached = this.lastView[bank];
    if (cached !== undefined && this.lastRow[bank] === row) return cached;
    const slot = this.slot(bank, row, create);
    if (slot < 0) return BankStore.ZERO;
    let view = this.lastView[bank];
    if (view === undefined) {
      const at = (slot % SLAB_ROWS) * ROW_LANES;
      view = this.slabs[Math.floor(slot / SLAB_ROWS)]!.subarray(at, at + ROW_LANES);
      this.lastView[bank] = view;
    }
    return view;
  }

  /** The row's slot, -1 if the row does not exist (and is not to be created). Remembered per bank. */
  private slot(bank: number, row: number, create: boolean): number {
    if (this.lastRow[bank] === row) return this.lastSlot[bank]!;
    const m = this.slots[bank]!;
    let slot = m.get(row);
    if (slot === undefined) {
      if (!create) return -1;
      slot = this.newSlot();
      m.set(row, slot);
    }
    this.lastRow[bank] = row;
    this.lastSlot[bank] = slot;
    this.lastView[bank] = undefined;
    return slot;
  }

  /** A zeroed row's slot (a new slab when the last one is full). */
  private newSlot(): number {
    if (this.allocated === this.slabs.length * SLAB_ROWS) this.slabs.push(new Uint16Array(SLAB_ROWS * ROW_LANES));
    return this.allocated++;
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

  /** Writes lanes[from..from+15] to a burst (in the slab: no view of the row). */
  writeBurst(bank: number, row: number, col: number, lanes: ArrayLike<number>, from = 0): void {
    const slot = this.slot(bank, row, true);
    const slab = this.slabs[Math.floor(slot / SLAB_ROWS)]!;
    const o = (slot % SLAB_ROWS) * ROW_LANES + col * LANES;
    for (let i = 0; i < LANES; i++) slab[o + i] = lanes[from + i]!;
  }

  /** Bytes of rows allocated (for stats). */
  get allocatedBytes(): number {
    return this.allocated * ROW_LANES * 2;
  }
}
