import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { CERTIFICATE, DEPLOY_DIR } from './support.ts';

const run = promisify(execFile);

/** The environment of a machine with no AWS credentials, no config and no Docker daemon. */
function offlineEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(AWS_|CDK_)/.test(k)) env[k] = v;
  return { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: path.join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'), DOCKER_HOST: 'unix:///nonexistent.sock', CDK_DISABLE_VERSION_CHECK: '1' };
}

describe('cdk synth (the real CLI, offline)', () => {
  const cdk = path.join(DEPLOY_DIR, 'node_modules/.bin/cdk');

  it('synthesizes the stack with no AWS credentials and no Docker', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-home-'));
    const out = path.join(home, 'cdk.out');
    await run(cdk, ['synth', '--quiet', '--no-notices', '--no-version-reporting', '-o', out, '-c', `certificateArn=${CERTIFICATE}`], {
      cwd: DEPLOY_DIR,
      env: offlineEnv(home),
      timeout: 300_000,
    });
    const template = JSON.parse(fs.readFileSync(path.join(out, 'InventoryService.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = new Set(Object.values(template.Resources).map((r) => r.Type));
    for (const t of ['AWS::DynamoDB::Table', 'AWS::RDS::DBInstance', 'AWS::RDS::DBProxy', 'AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::CloudWatch::Alarm']) {
      assert.ok(types.has(t), `${t} missing`);
    }
    const assets = JSON.parse(fs.readFileSync(path.join(out, 'InventoryService.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { directory: string; dockerFile?: string } }> };
    const images = Object.values(assets.dockerImages);
    assert.equal(images.length, 1);
    assert.ok(fs.existsSync(path.join(out, images[0]!.source.directory, 'Dockerfile')), 'the image is staged, not built');
  });
});
