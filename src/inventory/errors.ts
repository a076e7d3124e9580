/**
 * Every failure the domain reports carries one of these codes. The gRPC edge maps them to
 * status codes in one table (src/grpc/errors.ts); nothing else branches on transport.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT' // the request is malformed; `field` names the culprit
  | 'NOT_FOUND' // a referenced entity does not exist
  | 'ALREADY_EXISTS' // the entity to create exists already
  | 'VERSION_CONFLICT' // compare-and-set lost: expected_version is stale
  | 'FAILED_PRECONDITION' // the state does not allow the change (not enough stock, bad transition)
  | 'IDEMPOTENCY_MISMATCH' // an idempotency key reused with a different request
  | 'STALE_POSITION' // a feed position older than what is retained
  | 'NOT_OWNER' // the entity belongs to another caller (an allocation someone else made)
  | 'UNAVAILABLE' // a dependency is down; retrying later may succeed
  | 'RESOURCE_EXHAUSTED'; // an instance limit is reached (subscriptions, queued reads); retry later or elsewhere

/** Structured facts about a failure, safe to show to callers. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean>>;

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (field: string, problem: string): DomainError =>
  new DomainError('INVALID_ARGUMENT', `${field}: ${problem}`, { field });

export const notFound = (what: string, id: string): DomainError =>
  new DomainError('NOT_FOUND', `${what} ${JSON.stringify(id)} not found`, { resource: what, id });

export const alreadyExists = (what: string, id: string): DomainError =>
  new DomainError('ALREADY_EXISTS', `${what} ${JSON.stringify(id)} already exists`, { resource: what, id });

/** NOT_FOUND for an entity a request field refers to: the message starts with the field. */
export const notFoundField = (field: string, what: string, id: string): DomainError =>
  new DomainError('NOT_FOUND', `${field}: ${what} ${JSON.stringify(id)} not found`, { field, resource: what, id });
