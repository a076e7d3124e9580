// The CDK app: `npx cdk synth|diff|deploy -c certificateArn=...` in deploy/aws (docs/deploy-aws.md).
import { App } from 'aws-cdk-lib';
import { InventoryStack } from '../lib/inventory-stack.ts';
import { readSettings, SettingsError } from '../lib/settings.ts';

const app = new App();
try {
  const settings = readSettings((key) => app.node.tryGetContext(key));
  const stackName = String(app.node.tryGetContext('stackName') ?? 'InventoryService');
  // Environment-agnostic: deployed to the account and region of the credentials in use,
  // and synthesized without any.
  new InventoryStack(app, stackName, { settings, description: 'Inventory Service: event table, PostgreSQL, ECS service, alarms' });
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
app.synth();
