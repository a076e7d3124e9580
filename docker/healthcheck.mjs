// The container's health check (Dockerfile HEALTHCHECK and the ECS task definition): asks
// the service's own grpc.health.v1 Check for the overall status ("") on the local port and
// exits 0 only for SERVING. grpc-health-probe is not shipped; this uses the service's own
// @grpc/grpc-js and grpc-health-check, so it adds nothing to the image.
import grpc from '@grpc/grpc-js';
import { service } from 'grpc-health-check';

const port = Number(process.env.GRPC_PORT ?? 50051);
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS ?? 3000);
const Health = grpc.makeGenericClientConstructor(service, 'Health');
const client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

client.check({ service: '' }, { deadline: Date.now() + timeoutMs }, (err, res) => {
  client.close();
  if (err) {
    process.stderr.write(`health check failed: ${err.message}\n`);
    process.exit(1);
  }
  const status = res?.status ?? 'UNKNOWN';
  if (status !== 'SERVING') process.stderr.write(`health check: ${status}\n`);
  process.exit(status === 'SERVING' ? 0 : 1);
});
