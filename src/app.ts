import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from './config.js';
import { EmbeddedDynamo } from './embedded/dynamodb.js';
import { EmbeddedPostgres } from './embedded/postgres.js';
import { createDynamoClient, DynamoAppender } from './events/dynamo-appender.js';
import { OutboxRelay } from './events/relay.js';
import { startGrpcServer, type GrpcServer } from './grpc/server.js';
import { AllocationService } from './inventory/allocations.js';
import { ExpirySweeper } from './inventory/expiry-sweeper.js';
import { ItemService } from './inventory/items.js';
import { StockService } from './inventory/stock.js';
import { WarehouseService } from './inventory/warehouses.js';
import type { Logger } from './log.js';
import { migrate, openOrm } from './persistence/orm.js';
import { StockMovementPartitions } from './persistence/partitions.js';
import { UnitOfWork } from './persistence/unit-of-work.js';

export interface App {
  readonly config: Config;
  readonly port: number;
  readonly orm: MikroORM;
  readonly relay: OutboxRelay;
  readonly appender: DynamoAppender;
  readonly grpc: GrpcServer;
  readonly allocations: AllocationService;
  readonly expirySweeper: ExpirySweeper;
  readonly partitions: StockMovementPartitions;
  /** Graceful stop: NOT_SERVING, drain calls, flush the outbox, close pools, stop embedded servers. */
  stop(): Promise<void>;
}

export interface AppOptions {
  readonly clock?: () => Date;
  readonly newId?: () => string;
}

/** The composition root: config -> database -> event store -> use cases -> server. */
export async function startApp(config: Config, log: Logger, options: AppOptions = {}): Promise<App> {
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err: Error) => log.error({ err: err.message }, 'shutdown step failed'));
  };
  try {
    let databaseUrl = config.database.url;
    if (databaseUrl === undefined) {
      const pg = new EmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        port: config.database.embeddedPort,
        database: 'inventory',
        log,
      });
      await pg.start();
      cleanups.push(() => pg.stop());
      databaseUrl = pg.url;
    }
    let dynamoEndpoint = config.dynamodb.endpoint;
    if (dynamoEndpoint === undefined) {
      const dynamo = new EmbeddedDynamo({ dataDir: path.join(config.dataDir, 'dynamodb'), port: config.dynamodb.embeddedPort, log });
      await dynamo.start();
      cleanups.push(() => dynamo.stop());
      dynamoEndpoint = dynamo.endpoint;
    }

    const orm = await openOrm({ ...config.database, url: databaseUrl }, log);
    cleanups.push(() => orm.close());
    const applied = await migrate(orm);
    if (applied.length > 0) log.info({ migrations: applied }, 'applied migrations');
    const clock = options.clock ?? (() => new Date());
    const partitions = new StockMovementPartitions(orm, log, {
      monthsAhead: config.ledger.partitionMonthsAhead,
      intervalMs: config.ledger.partitionMaintenanceIntervalMs,
      clock,
    });
    await partitions.ensure();
    partitions.start();
    cleanups.push(() => partitions.stop());

    const dynamoClient = createDynamoClient({ ...config.dynamodb, endpoint: dynamoEndpoint });
    cleanups.push(async () => dynamoClient.destroy());
    const appender = new DynamoAppender(dynamoClient, config.dynamodb.table, log);
    await appender.ensureTable();

    const uow = new UnitOfWork({ clock, newId: options.newId ?? randomUUID });
    const relay = new OutboxRelay(orm, appender, log, config.relay);
    uow.onCommit(relay.committed);
    relay.start();
    cleanups.push(() => relay.stop(Math.max(1000, config.shutdownTimeoutMs / 2)));
    void relay.sweep(); // whatever a previous run left behind

    const stock = new StockService(uow);
    const allocations = new AllocationService(uow, config.allocation);
    // Stops after the server has drained (cleanups run in reverse) and before the relay's last flush.
    const expirySweeper = new ExpirySweeper(orm, allocations, log, { intervalMs: config.allocation.expirySweepIntervalMs });
    cleanups.push(() => expirySweeper.stop());
    const grpc = await startGrpcServer(
      { orm, log },
      { warehouses: new WarehouseService(uow), items: new ItemService(uow), stock, allocations },
      config.grpc,
    );
    cleanups.push(() => grpc.shutdown(config.shutdownTimeoutMs));
    expirySweeper.start();
    grpc.setServing(true);
    log.info({ address: `${config.grpc.host}:${grpc.port}` }, 'inventory service ready');

    let stopping: Promise<void> | undefined;
    return {
      config,
      port: grpc.port,
      orm,
      relay,
      appender,
      grpc,
      allocations,
      expirySweeper,
      partitions,
      stop: () => {
        stopping ??= (async () => {
          grpc.setServing(false);
          await cleanup();
          log.info('inventory service stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
