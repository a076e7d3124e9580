import { BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * The global feed's bookkeeping: a single row (id 1). Its row lock serialises the
 * sequencer and the pruner across instances, so positions are handed out by one
 * transaction at a time, in commit order, without gaps.
 */
@Entity({ tableName: 'event_feed' })
export class FeedState {
  [OptionalProps]?: 'lastPosition' | 'prunedThrough';

  @PrimaryKey({ type: 'integer', autoincrement: false })
  id: number = 1;

  /** The highest position handed out; every position up to it is committed. */
  @Property({ type: new BigIntType('number'), default: 0 })
  lastPosition: number = 0;

  /** Every position up to this one has been deleted by the pruner (or predates a rebuild). */
  @Property({ type: new BigIntType('number'), default: 0 })
  prunedThrough: number = 0;
}
