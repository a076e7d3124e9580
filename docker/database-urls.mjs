/**
 * Builds the service's PostgreSQL URLs from the parts a deployment injects separately:
 * the credentials come from Secrets Manager (ECS `secrets`), the host names from the
 * stack, and a URL cannot be assembled by ECS itself. Credentials are percent-encoded, so
 * a rotated password with any characters still makes a valid URL.
 *
 *   DATABASE_USER, DATABASE_PASSWORD   the login (from the database secret)
 *   DATABASE_HOST                      the primary instance, connected to directly
 *   DATABASE_PROXY_HOST                optional: RDS Proxy; the pool goes there when set
 *   DATABASE_REPLICA_HOSTS             optional: comma-separated read replicas
 *   DATABASE_NAME, DATABASE_PORT       default inventory, 5432
 *   DATABASE_URL_PARAMS                query string for every URL, e.g. sslmode=verify-full
 *
 * Yields DATABASE_URL (the proxy if set, else the primary), DATABASE_LISTEN_URL (always the
 * primary: LISTEN needs a session of its own, which a transaction-multiplexing proxy
 * would have to pin) and DATABASE_REPLICA_URLS. An environment that already has
 * DATABASE_URL, or has no DATABASE_HOST, is left as it is.
 *
 * @param {Record<string, string | undefined>} env
 * @returns {Record<string, string>} the variables to add
 */
export function databaseUrls(env) {
  if (env.DATABASE_URL !== undefined && env.DATABASE_URL !== '') return {};
  const host = env.DATABASE_HOST;
  if (host === undefined || host === '') return {};
  const user = env.DATABASE_USER;
  const password = env.DATABASE_PASSWORD;
  if (!user || password === undefined) throw new Error('DATABASE_HOST is set but DATABASE_USER or DATABASE_PASSWORD is missing');
  const port = env.DATABASE_PORT || '5432';
  const name = env.DATABASE_NAME || 'inventory';
  const params = env.DATABASE_URL_PARAMS ? `?${env.DATABASE_URL_PARAMS}` : '';
  const url = (h) =>
    `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${h}:${port}/${encodeURIComponent(name)}${params}`;
  const replicas = (env.DATABASE_REPLICA_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  const out = {
    DATABASE_URL: url(env.DATABASE_PROXY_HOST || host),
    DATABASE_LISTEN_URL: url(host),
  };
  if (replicas.length > 0) out.DATABASE_REPLICA_URLS = replicas.map(url).join(',');
  return out;
}
