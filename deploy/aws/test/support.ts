import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { InventoryStack } from '../lib/inventory-stack.ts';
import { readSettings } from '../lib/settings.ts';

export const DEPLOY_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(DEPLOY_DIR, '../..');
export const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000';

export interface Synthesized {
  readonly stack: InventoryStack;
  readonly template: Template;
}

const cache = new Map<string, Synthesized>();

/**
 * The stack synthesized with these context values (memoized: aws-cdk-lib synthesis takes
 * seconds, and the test files share one process, see the Makefile's deploy-test).
 */
export function synth(context: Record<string, unknown> = {}): Synthesized {
  const key = JSON.stringify(context);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const full = { certificateArn: CERTIFICATE, ...context };
  const app = new App({ context: full });
  const stack = new InventoryStack(app, 'Test', { settings: readSettings((k) => app.node.tryGetContext(k)) });
  const made = { stack, template: Template.fromStack(stack) };
  cache.set(key, made);
  return made;
}

/** The one resource of `type` whose logical id starts with `prefix`'s logical id pattern. */
export function onlyResource(template: Template, type: string, props: Record<string, unknown> = {}): { id: string; resource: Record<string, any> } {
  const found = Object.entries(template.findResources(type, props));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource };
}
