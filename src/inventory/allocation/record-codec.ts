import type { AllocationRecord } from '../../persistence/repositories/allocation.repository.js';

type Stored = Omit<AllocationRecord, 'expireTime' | 'createTime' | 'updateTime'> & { expireTime: string | null; createTime: string; updateTime: string };

/** An allocation as an idempotency record stores it (JSON: times as ISO strings). */
export const allocationCodec = {
  encode: (a: AllocationRecord): Stored => ({
    ...a,
    expireTime: a.expireTime?.toISOString() ?? null,
    createTime: a.createTime.toISOString(),
    updateTime: a.updateTime.toISOString(),
  }),
  decode: (json: unknown): AllocationRecord => {
    const o = json as Stored;
    return { ...o, expireTime: o.expireTime === null ? null : new Date(o.expireTime), createTime: new Date(o.createTime), updateTime: new Date(o.updateTime) };
  },
};
