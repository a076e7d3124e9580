import { EmbeddedDynamo } from '../src/embedded/dynamodb.js';
import { createLogger } from '../src/log.js';

/** The bench's DynamoDB API in its own process, so neither the service nor the load generator pays for it. */
const dynamo = new EmbeddedDynamo({ dataDir: undefined, port: 0, log: createLogger('warn') });
await dynamo.start();
process.stdout.write(`${dynamo.endpoint}\n`);
process.on('SIGTERM', () => {
  void dynamo.stop().then(() => process.exit(0));
});
