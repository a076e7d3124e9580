/**
 * Takes credentials out of text bound for a log line or an error message: the password of
 * a URL (`postgres://inv:S3cr3t@db/...` -> `postgres://inv:***@db/...`), `password=` and
 * `secret=` pairs of connection strings, and AWS access key ids. Applied to every log line
 * (src/log.ts), to configuration errors and to start-up and operator command failures.
 */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*):[^\s@/'"]*@/gi;
const KEY_VALUE = /\b(password|passwd|pwd|secret|secretAccessKey|aws_secret_access_key|sessionToken)(\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s&;,'"]+)/gi;
/** Object keys whose string values are secrets whatever they hold. */
const SECRET_KEY = /password|passwd|secret|credential|sessionToken|^authorization$/i;
const AWS_KEY_ID = /\b(AKIA|ASIA)[A-Z0-9]{16}\b/g;

export function redact(text: string): string {
  if (!/[:=@]|AKIA|ASIA/.test(text)) return text; // the common case: nothing to look at
  return text.replace(URL_PASSWORD, '$1:***@').replace(KEY_VALUE, '$1$2***').replace(AWS_KEY_ID, '$1****************');
}

/** `redact` applied to every string inside a log object (depth-limited; cycles are cut). */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message), ...(value.stack ? { stack: redact(value.stack) } : {}) };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && typeof v === 'string' ? '***' : redactDeep(v, depth + 1);
  return out;
}
