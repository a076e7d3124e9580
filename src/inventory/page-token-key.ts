import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

/**
 * PAGE_TOKEN_KEY, or a random key for this process. A random key is right for one
 * development instance; behind a load balancer a token made by one instance would be
 * INVALID_ARGUMENT on the next, so a service with DATABASE_URL set (a deployment) says so.
 */
export function pageTokenKey(config: Config, log: Logger): Uint8Array {
  if (config.pageTokenKey !== undefined) return Buffer.from(config.pageTokenKey, 'utf8');
  if (config.database.url !== undefined) {
    log.warn('PAGE_TOKEN_KEY is unset: page tokens are signed with a random key and work only on this instance until it restarts; set the same PAGE_TOKEN_KEY on every instance');
  }
  return randomBytes(32);
}
