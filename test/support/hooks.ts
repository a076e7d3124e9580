import { startStack, stopStack } from './stack.js';

/** Mocha root hooks: one real PostgreSQL and DynamoDB API for the whole run. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    await startStack();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopStack();
  },
};
