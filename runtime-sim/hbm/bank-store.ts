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
/** Row numbers below this (all of an HBM bank's: 14 bits) find their slot in a table of chunks; others in a map. */
const TABLE_ROWS = 1 << 16;
const CHUNK_BITS = 8;
const CHUNK_ROWS = 1 << CHUNK_BITS;

export class BankStore {
  /**
   * Per bank: row number -> slot (slab * SLAB_ROWS + row within the slab).
   * Rows 0 .. TABLE_ROWS-1 in chunks of CHUNK_ROWS entries (-1: no row;
   * a chunk exists once one of its rows does), any other row number in the map.
   */
  private readonly chunks: (Int32Array | undefined)[][];
  private readonly slots: Map<number, number>[];
  private readonly slabs: Uint16Array[] = [];
  private allocated = 0;
  private static readonly ZERO = new Uint16Array(ROW_LANES);
  /** Per bank, the last row looked up that exists (-1: none yet), its slot, and its view (undefined until asked for). */
  private readonly lastRow: Int32Array;
  private readonly lastSlot: Int32Array;
  private readonly lastView: (Uint16Array | undefined)[];

  constructor(readonly banks = 16) {
    this.chunks = Array.from({ length: banks }, () => new Array<Int32Array | undefined>(TABLE_ROWS / CHUNK_ROWS).fill(undefined));
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
    let slot: number;
    if (row >= 0 && row < TABLE_ROWS && (row | 0) === row) {
      const chunks = this.chunks[bank]!;
      let c = chunks[row >>> CHUNK_BITS];
      slot = c === undefined ? -1 : c[row & (CHUNK_ROWS - 1)]!;
      if (slot < 0) {
        if (!create) return -1;
        if (c === undefined) c = chunks[row >>> CHUNK_BITS] = new Int32Array(CHUNK_ROWS).fill(-1);
        slot = c[row & (CHUNK_ROWS - 1)] = this.newSlot();
      }
    } else {
      const m = this.slots[bank]!;
      const s = m.get(row);
      if (s === undefined) {
        if (!create) return -1;
        slot = this.newSlot();
        m.set(row, slot);
      } else slot = s;
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

  /** Rows allocated so far (it only grows: a view of a row stays valid, and a row that read as zeros is one until this changes). */
  get rowsAllocated(): number {
    return this.allocated;
  }

  /** Bytes of rows allocated (for stats). */
  get allocatedBytes(): number {
    return this.allocated * ROW_LANES * 2;
  }
}
