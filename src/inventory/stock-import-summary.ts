import type { DecidedRow, RejectionReason } from './stock-count-rows.js';

/** The most rejected rows one answer lists (the counts cover them all). */
export const MAX_LISTED_REJECTIONS = 10_000;

export interface Rejection {
  readonly row: number;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly reason: RejectionReason;
  readonly message: string;
}

export interface ImportResult {
  readonly importId: string;
  readonly rows: number;
  readonly applied: number;
  readonly unchanged: number;
  readonly rejected: number;
  readonly alreadyDecided: number;
  readonly rejections: readonly Rejection[];
  readonly rejectionsTruncated: boolean;
}

/** Echoed fields are cut so a garbage row cannot blow up the answer. */
const ECHO = 100;

/** Counts the rows of an import as they are decided; keeps no more than the listed rejections. */
export class ImportSummary {
  private rows = 0;
  private applied = 0;
  private unchanged = 0;
  private rejected = 0;
  private alreadyDecided = 0;
  private readonly rejections: Rejection[] = [];

  constructor(private readonly importId: string) {}

  add(d: DecidedRow): void {
    this.rows++;
    if (d.earlier) this.alreadyDecided++;
    const o = d.outcome;
    switch (o.kind) {
      case 'APPLIED':
        this.applied++;
        return;
      case 'UNCHANGED':
        this.unchanged++;
        return;
      case 'REJECTED':
        this.rejected++;
        if (this.rejections.length < MAX_LISTED_REJECTIONS) {
          this.rejections.push({ row: d.row, sku: d.sku.slice(0, ECHO), warehouseCode: d.warehouseCode.slice(0, ECHO), reason: o.reason, message: o.message });
        }
        return;
      default: {
        const never: never = o;
        throw new Error(`unknown outcome ${JSON.stringify(never)}`);
      }
    }
  }

  result(): ImportResult {
    return {
      importId: this.importId,
      rows: this.rows,
      applied: this.applied,
      unchanged: this.unchanged,
      rejected: this.rejected,
      alreadyDecided: this.alreadyDecided,
      rejections: this.rejections,
      rejectionsTruncated: this.rejected > this.rejections.length,
    };
  }
}
