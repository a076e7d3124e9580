import { MAX_IMPORT_ROWS } from './stock-count-rows.js';

/**
 * The levels one run of an import has met so far, in a fixed amount of memory: a Bloom
 * filter sized for the most rows an import holds at a false-positive rate of 1 in 10,000
 * (about 240 KB, allocated once). It answers "certainly not counted before" for almost
 * every row, so a batch asks PostgreSQL for the first row of a level only when the filter
 * says "maybe" (a real duplicate, or a rare false positive); the database stays the
 * authority. It can answer for the whole import because a run sees every earlier row:
 * rows arrive numbered from 1, and each is either decided by this run or read back as
 * decided by an earlier one, with the level it named.
 */
export class CountedLevels {
  private readonly bits: Uint32Array;
  private readonly size: number;
  private readonly hashes: number;

  constructor(capacity = MAX_IMPORT_ROWS, falsePositiveRate = 1e-4) {
    this.size = Math.ceil((-capacity * Math.log(falsePositiveRate)) / Math.LN2 ** 2);
    this.hashes = Math.max(1, Math.round((this.size / capacity) * Math.LN2));
    this.bits = new Uint32Array(Math.ceil(this.size / 32));
  }

  add(sku: string, warehouseCode: string): void {
    this.probe(sku, warehouseCode, (i) => {
      this.bits[i >>> 5]! |= 1 << (i & 31);
      return true;
    });
  }

  /** False: no row met so far counted this level. True: maybe one did. */
  mayHave(sku: string, warehouseCode: string): boolean {
    return this.probe(sku, warehouseCode, (i) => (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0);
  }

  /** Double hashing over two 32-bit hashes of the key; stops at the first probe that returns false. */
  private probe(sku: string, warehouseCode: string, visit: (bit: number) => boolean): boolean {
    const key = `${sku}#${warehouseCode}`;
    const h1 = mix(fnv1a(key, 0x811c9dc5));
    const h2 = mix(fnv1a(key, 0x01000193 ^ 0x5bd1e995)) | 1;
    for (let k = 0; k < this.hashes; k++) {
      const bit = (h1 + Math.imul(k, h2)) >>> 0;
      if (!visit(bit % this.size)) return false;
    }
    return true;
  }
}

function fnv1a(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: spreads FNV's weak low bits over the whole word. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
