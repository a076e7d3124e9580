import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { IntegrityKind } from '../../src/events/audit/findings.js';
import { verifyEventStore } from '../../src/events/replay/verify.js';
import { withSession } from '../../src/admin/event-store.js';
import { GetIntegrityReportRequest, type GetIntegrityReportResponse } from '../../src/gen/inventory/v1/integrity.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { testDynamoClient } from '../support/dynamo.js';
import { eventClient, healthOf, ServingStatus, waitFor } from '../support/events.js';
import { seed, sql } from '../support/stock.js';
import { parse, scrape, value } from '../support/metrics.js';
import { freePort } from '../support/process.js';
import { startWriteLoad, type WriteLoad } from '../support/write-load.js';

const AUDIT_ENV = { AUDIT_ENABLED: 'true', AUDIT_INTERVAL_MS: '200', AUDIT_SWEEP_STREAMS_PER_SECOND: '1000', AUDIT_STREAMS_PER_SECOND: '2000', AUDIT_DYNAMODB_READS_PER_SECOND: '5000', RELAY_INTERVAL_MS: '100', FEED_POLL_MS: '100' };
const HOT = ['HOT-1', 'HOT-2', 'HOT-3'];
const QUIET = ['QUIET-1', 'QUIET-2', 'QUIET-3', 'QUIET-4', 'QUIET-5'];
const WAREHOUSES = ['WH-A', 'WH-B'];

function report(t: TestApp, pageSize = 100): Promise<GetIntegrityReportResponse> {
  const client = eventClient(t.address);
  return new Promise((resolve, reject) =>
    client.getIntegrityReport(GetIntegrityReportRequest.fromPartial({ pageSize }), new Metadata(), (err: ServiceError | null, res?: GetIntegrityReportResponse) => {
      client.close();
      if (err) reject(err);
      else resolve(res!);
    }),
  );
}

async function openKinds(t: TestApp): Promise<Array<{ kind: IntegrityKind; stream_id: string; detail: string }>> {
  return sql(t.databaseUrl, 'select kind, stream_id, detail from integrity_finding where resolved_at is null order by id');
}

/** Waits until the auditor has audited every position of the feed. */
async function caughtUp(t: TestApp): Promise<void> {
  await waitFor(async () => {
    const r = await report(t);
    return r.feedPosition > 0n && r.auditedPosition === r.feedPosition;
  }, 30_000, 'the auditor to catch up with the feed');
}

describe('online integrity auditor (e2e)', function () {
  this.timeout(180_000);

  describe('on two instances under a mixed write load', () => {
    let a: TestApp;
    let b: TestApp;
    before(async () => {
      a = await startTestApp(AUDIT_ENV);
      b = await startTestApp(AUDIT_ENV, { databaseUrl: a.databaseUrl, table: a.table });
      await seed(a.client, { 'WH-A': 1, 'WH-B': 2 }, [...HOT, ...QUIET]);
      for (const sku of [...HOT, ...QUIET]) for (const wh of WAREHOUSES) await a.client.receiveStock({ sku, warehouseCode: wh, quantity: 50n });
    });
    after(async () => {
      await b?.stop();
      await a?.stop();
    });

    it('one instance audits at a time and reports no difference while both write (no false alarms)', async function () {
      const seconds = Number(process.env.AUDIT_SOAK_SECONDS ?? 20);
      this.timeout(120_000 + seconds * 1000);
      const load = startWriteLoad([a.client, b.client], HOT, WAREHOUSES, 3, 'soak');
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const calls = await load.stop();
      expect(calls, 'the load made calls').to.be.greaterThan(20);
      await caughtUp(a);
      expect(await openKinds(a)).to.deep.equal([]);
      const leaders = [a.app.auditor!.stats.leader, b.app.auditor!.stats.leader];
      expect(leaders.filter(Boolean), 'exactly one leader').to.have.length(1);
      const stats = (leaders[0] ? a : b).app.auditor!.stats;
      expect(stats.streamsAudited).to.be.greaterThan(0);
      expect(stats.streamsContinued, 'changed streams continued from the state audited before').to.be.greaterThan(0);
      expect(stats.sweepsCompleted).to.be.greaterThan(0);
      expect(Object.values(stats.violations).reduce((x, y) => x + y, 0)).to.equal(0);
      expect(await healthOf(a.address, 'inventory.v1.Integrity')).to.equal(ServingStatus.SERVING);
      // verify, by hand's way, agrees with the auditor
      const result = await withSession(a.databaseUrl, (s) => verifyEventStore({ dynamo: testDynamoClient(), table: a.table, sql: s, print: () => undefined }));
      expect(result.differences).to.equal(0);
    });

    it('another instance takes over when the auditing one stops', async () => {
      const [leader, follower] = a.app.auditor!.stats.leader ? [a, b] : [b, a];
      await leader.app.auditor!.stop();
      await waitFor(() => follower.app.auditor!.stats.leader, 10_000, 'the other instance to take over');
      leader.app.auditor!.start();
      await follower.client.receiveStock({ sku: 'HOT-1', warehouseCode: 'WH-A', quantity: 1n });
      await caughtUp(follower);
    });
  });

  describe('tampering, caught while a write load runs', () => {
    let t: TestApp;
    let load: WriteLoad;
    let dynamo: ReturnType<typeof testDynamoClient>;
    let metricsPort: number;
    before(async () => {
      dynamo = testDynamoClient();
      metricsPort = await freePort();
      t = await startTestApp({ ...AUDIT_ENV, METRICS_PORT: String(metricsPort) });
      await seed(t.client, { 'WH-A': 1, 'WH-B': 2 }, [...HOT, ...QUIET]);
      for (const sku of [...HOT, ...QUIET]) for (const wh of WAREHOUSES) await t.client.receiveStock({ sku, warehouseCode: wh, quantity: 50n });
      await caughtUp(t);
      expect(await openKinds(t)).to.deep.equal([]);
      load = startWriteLoad([t.client], HOT, WAREHOUSES, 2, 'tamper');
    });
    after(async () => {
      await load?.stop();
      await t?.stop();
      dynamo?.destroy();
    });

    /** Tampers, then expects a finding of `kind` on `streamId` within 10 s. */
    async function caught(kind: IntegrityKind, streamId: string, tamper: () => Promise<unknown>): Promise<void> {
      await tamper();
      const started = Date.now();
      await waitFor(async () => (await openKinds(t)).some((f) => f.kind === kind && f.stream_id === streamId), 10_000, `a ${kind} finding on ${streamId}`);
      expect(Date.now() - started).to.be.lessThan(10_000);
    }

    it('a stock level changed directly in PostgreSQL', async () => {
      await caught('state_mismatch', 'stock#QUIET-1#WH-A', () =>
        sql(t.databaseUrl, `update stock_level set on_hand = on_hand + 5 where sku = 'QUIET-1' and warehouse_code = 'WH-A'`),
      );
      // the health name follows at the end of the pass that recorded it
      await waitFor(async () => (await healthOf(t.address, 'inventory.v1.Integrity')) === ServingStatus.NOT_SERVING, 5000, 'Integrity NOT_SERVING');
      expect(await healthOf(t.address, ''), 'readiness is not affected').to.equal(ServingStatus.SERVING);
    });

    it('a ledger row changed', async () => {
      await caught('ledger_mismatch', 'stock#QUIET-2#WH-B', () =>
        sql(t.databaseUrl, `update stock_movement set on_hand_delta = on_hand_delta + 1 where sku = 'QUIET-2' and warehouse_code = 'WH-B'`),
      );
    });

    it('an event item deleted from DynamoDB', async () => {
      await caught('event_missing', 'item#QUIET-3', () =>
        dynamo.send(new DeleteItemCommand({ TableName: t.table, Key: { streamId: { S: 'item#QUIET-3' }, version: { N: '1' } } })),
      );
    });

    it("an event's payload altered in DynamoDB", async () => {
      const key = { streamId: { S: 'stock#QUIET-4#WH-A' }, version: { N: '1' } };
      await caught('event_mismatch', 'stock#QUIET-4#WH-A', async () => {
        const item = await dynamo.send(new GetItemCommand({ TableName: t.table, Key: key }));
        const payload = JSON.parse(item.Item!.payload!.S!) as Record<string, unknown>;
        await dynamo.send(
          new UpdateItemCommand({
            TableName: t.table,
            Key: key,
            UpdateExpression: 'SET payload = :p',
            ExpressionAttributeValues: { ':p': { S: JSON.stringify({ ...payload, reference: 'tampered' }) } },
          }),
        );
      });
    });

    it('an outbox row inserted without its event', async () => {
      await caught('event_missing', 'item#QUIET-5', () =>
        sql(
          t.databaseUrl,
          `insert into event_outbox (event_id, stream_id, version, type, schema_version, payload, correlation_id, occurred_at, appended_at)
           values ($1, 'item#QUIET-5', 2, 'ItemCreated', 1, '{"sku":"QUIET-5","name":"forged","description":""}', 'forged', now(), now())`,
          [randomUUID()],
        ),
      );
    });

    it('GetIntegrityReport lists the findings and the audit position; a repair resolves a finding', async () => {
      const r = await report(t);
      expect(r.openFindings).to.be.greaterThanOrEqual(5);
      expect(r.auditedPosition > 0n).to.equal(true);
      expect(r.findings.map((f) => f.kind)).to.include.members(['state_mismatch', 'ledger_mismatch', 'event_missing', 'event_mismatch']);
      expect(r.findings.every((f) => f.findTime instanceof Date && f.detail !== '')).to.equal(true);
      // undo the stock level change: the sweep audits it clean and resolves its finding
      await sql(t.databaseUrl, `update stock_level set on_hand = on_hand - 5 where sku = 'QUIET-1' and warehouse_code = 'WH-A'`);
      await waitFor(async () => !(await openKinds(t)).some((f) => f.stream_id === 'stock#QUIET-1#WH-A'), 10_000, 'the finding to be resolved');
      const after = await report(t);
      expect(after.findings.find((f) => f.streamId === 'stock#QUIET-1#WH-A')?.resolveTime).to.be.instanceOf(Date);
      const m = parse(await scrape(metricsPort));
      for (const kind of ['state_mismatch', 'ledger_mismatch', 'event_missing', 'event_mismatch']) {
        expect(value(m, 'inventory_integrity_violations_total', { kind }), kind).to.be.greaterThanOrEqual(1);
      }
      expect(value(m, 'inventory_integrity_violations_total', { kind: 'stream_broken' })).to.equal(0);
      expect(value(m, 'inventory_integrity_auditor_leader')).to.equal(1);
      expect(value(m, 'inventory_integrity_open_findings')).to.equal(after.openFindings);
      expect(value(m, 'inventory_integrity_audit_lag_seconds')).to.be.greaterThanOrEqual(0);
    });

    it('a hot level changed in PostgreSQL while it is written: caught by the audit that continues from its audited state', async () => {
      const auditor = t.app.auditor!;
      const continuedBefore = auditor.stats.streamsContinued;
      const streamId = 'stock#HOT-2#WH-B';
      await sql(t.databaseUrl, `update stock_level set on_hand = on_hand + 7 where sku = 'HOT-2' and warehouse_code = 'WH-B'`);
      const started = Date.now();
      // Depending on whether a write lands before the audit, the level differs from its replay
      // (state_mismatch) or the next event's totals contradict the replayed deltas (stream_broken).
      await waitFor(async () => (await openKinds(t)).some((f) => f.stream_id === streamId && ['state_mismatch', 'stream_broken'].includes(f.kind)), 10_000, `a finding on ${streamId}`);
      expect(Date.now() - started).to.be.lessThan(10_000);
      expect(auditor.stats.streamsContinued).to.be.greaterThan(continuedBefore);
    });

    it('GetIntegrityReport rejects a negative page_size naming the field', async () => {
      const err = await report(t, -1).then(
        () => undefined,
        (e: ServiceError) => e,
      );
      expect(err?.code).to.equal(status.INVALID_ARGUMENT);
      expect(err?.details).to.match(/^page_size/);
    });
  });
});
