import { createRequire } from 'node:module';
import type * as Mnemonist from 'mnemonist/bloom-filter.js';
import { MAX_IMPORT_ROWS } from './stock-count-rows.js';
import { levelKey } from './stock-level.js';

// mnemonist is CommonJS (`module.exports = BloomFilter`) and its typings declare the class as
// `export default`, which TypeScript's node16 resolution reads as `module.exports.default`;
// `require` hands out the class itself.
type BloomFilterClass = (typeof Mnemonist)['default']['default'];
type BloomFilter = InstanceType<BloomFilterClass>;
const BloomFilter = createRequire(import.meta.url)('mnemonist/bloom-filter.js') as BloomFilterClass;

/**
 * The levels one run of an import has met so far, in a fixed amount of memory: a Bloom
 * filter (mnemonist's) sized for the most rows an import holds at a false-positive rate of
 * 1 in 10,000 (about 240 KB, allocated once). It answers "certainly not counted before" for
 * almost every row, so a batch asks PostgreSQL for the first row of a level only when the
 * filter says "maybe" (a real duplicate, or a rare false positive); the database stays the
 * authority. It can answer for the whole import because a run sees every earlier row:
 * rows arrive numbered from 1, and each is either decided by this run or read back as
 * decided by an earlier one, with the level it named.
 */
export class CountedLevels {
  private readonly filter: BloomFilter;

  constructor(capacity = MAX_IMPORT_ROWS, falsePositiveRate = 1e-4) {
    this.filter = new BloomFilter({ capacity, errorRate: falsePositiveRate });
  }

  add(sku: string, warehouseCode: string): void {
    this.filter.add(levelKey(sku, warehouseCode));
  }

  /** False: no row met so far counted this level. True: maybe one did. */
  mayHave(sku: string, warehouseCode: string): boolean {
    return this.filter.test(levelKey(sku, warehouseCode));
  }
}
