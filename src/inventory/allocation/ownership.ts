import type { AllocationRecord } from '../../persistence/repositories/allocation.repository.js';
import type { CallContext } from '../../persistence/unit-of-work.js';
import { DomainError } from '../errors.js';

/** An allocation is changed only by the identity that made it, or by one that acts for others (an admin). */
export function mustOwn(allocation: AllocationRecord, ctx: CallContext, verb: string): void {
  if (allocation.owner === ctx.actor || ctx.actsForOthers) return;
  throw new DomainError('NOT_OWNER', `allocation ${JSON.stringify(allocation.allocationId)} belongs to another caller; only it or an admin may ${verb} it`, {
    allocation_id: allocation.allocationId,
  });
}
