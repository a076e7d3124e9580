/**
 * Find options for a reporting query: it runs on a read replica when
 * DATABASE_REPLICA_URLS is set (on the primary otherwise). The ORM is configured with
 * `preferReadReplicas: false`, so nothing else ever goes to a replica: writes, reads
 * inside transactions, cache loads and every read that must see its own writes stay on
 * the primary. A replica lags the primary by its replication delay; only queries whose
 * callers accept that belong here.
 */
export const ON_REPLICA = { connectionType: 'read' } as const;
