// How the host memory controller splits a byte address into pseudo-channel,
// bank group, bank, row and column: a list of fields from the least
// significant bit up (data, like the reference's mapping string).
//
// The reference's mapping, most to least significant: rank | row | column
// high bits | bank group | bank | channel | column low 2 bits | byte offset.
// Its columns are 8-byte bus words, so the column's low 2 bits are the four
// beats of one BL4 burst: together with the 3-bit word offset they make the
// 5-bit offset within a 32-byte burst, and the "column high bits" are the
// burst index in the row (0..31). The traces agree: the GEMV's 8 KiB input
// vector (after 32 MiB of weights) lands on pCH 0 as column 0 of banks 0-3,
// row 32, and its 8 KiB result as column 0 of banks 4-7: consecutive bursts
// go to consecutive pseudo-channels, then banks, then bank groups, then
// columns, then rows. One rank holds all the data (the reference's second
// rank only matters for its refresh phase).

import type { HbmDesc } from '../hardware/types.js';

export type AddressField = 'offset' | 'channel' | 'bank' | 'bankGroup' | 'column' | 'row';

export interface AddressMap {
  /** Least significant first. */
  fields: ReadonlyArray<{ field: AddressField; bits: number }>;
}

const log2 = (n: number, what: string): number => {
  const b = Math.log2(n);
  if (!Number.isInteger(b)) throw new Error(`internal: the address map needs a power of two for ${what}, got ${n}`);
  return b;
};

/** The reference controller's mapping for this HBM organisation. */
export function referenceAddressMap(hbm: HbmDesc): AddressMap {
  return {
    fields: [
      { field: 'offset', bits: log2(hbm.burstBytes, 'burst bytes') },
      { field: 'channel', bits: log2(hbm.stacks * hbm.pseudoChannelsPerStack, 'pseudo-channels') },
      { field: 'bank', bits: log2(hbm.banksPerPseudoChannel / hbm.bankGroups, 'banks per group') },
      { field: 'bankGroup', bits: log2(hbm.bankGroups, 'bank groups') },
      { field: 'column', bits: log2(hbm.rowBytes / hbm.burstBytes, 'bursts per row') },
      { field: 'row', bits: log2(hbm.rowsPerBank, 'rows') },
    ],
  };
}

export interface DecodedAddress {
  channel: number;
  /** Bank within the pseudo-channel: bankGroup * banksPerGroup + bank. */
  bank: number;
  row: number;
  col: number;
}

/** A decoder for one map. Plain arithmetic, not bit operations: addresses pass 2^32. */
export class AddressDecoder {
  private readonly size: Record<AddressField, number> = { offset: 1, channel: 1, bank: 1, bankGroup: 1, column: 1, row: 1 };
  private readonly order: AddressField[];
  readonly burstBytes: number;
  readonly capacity: number;

  constructor(readonly map: AddressMap) {
    this.order = map.fields.map((f) => f.field);
    for (const f of map.fields) this.size[f.field] = 2 ** f.bits;
    if (this.order[0] !== 'offset') throw new Error('internal: the address map must start with the byte offset');
    this.burstBytes = this.size.offset;
    this.capacity = map.fields.reduce((p, f) => p * 2 ** f.bits, 1);
  }

  /** Fills `out` for the burst with index `burst` (= byte address / burst bytes). */
  decodeBurst(burst: number, out: DecodedAddress): DecodedAddress {
    let v = burst;
    let bank = 0;
    let group = 0;
    for (let i = 1; i < this.order.length; i++) {
      const f = this.order[i]!;
      const n = this.size[f];
      const x = v % n;
      v = (v - x) / n;
      if (f === 'channel') out.channel = x;
      else if (f === 'bank') bank = x;
      else if (f === 'bankGroup') group = x;
      else if (f === 'column') out.col = x;
      else out.row = x;
    }
    out.bank = group * this.size.bank + bank;
    return out;
  }

  decode(addr: number): DecodedAddress {
    return this.decodeBurst(Math.floor(addr / this.burstBytes), { channel: 0, bank: 0, row: 0, col: 0 });
  }
}
