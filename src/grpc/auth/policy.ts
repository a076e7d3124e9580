import { readFileSync } from 'node:fs';
import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** A fully qualified method: `inventory.v1.InventoryService/GetItem`. */
export type MethodName = string;

export const BUILT_IN_ROLES = ['reader', 'allocator', 'stock-keeper', 'catalog-admin', 'auditor', 'admin'] as const;
export type BuiltInRole = (typeof BUILT_IN_ROLES)[number];

const INVENTORY = 'inventory.v1.InventoryService';
const EVENTS = 'inventory.v1.EventService';

/** The stock-keeper's writes. */
const STOCK_KEEPING = ['ReceiveStock', 'AdjustStock', 'TransferStock', 'MoveStock', 'RecordIncomingStock', 'ReceiveIncomingStock', 'CancelIncomingStock'];

const shortName = (m: MethodName) => m.slice(m.indexOf('/') + 1);
const serviceOf = (m: MethodName) => m.slice(0, m.indexOf('/'));

/**
 * The built-in roles as rules over method names, so an RPC added to a service falls into
 * the role its name says (a new Get* is for readers) and one that fits no rule is for
 * `admin` only, until someone decides.
 */
const RULES: Record<BuiltInRole, (m: MethodName) => boolean> = {
  reader: (m) => serviceOf(m) === INVENTORY && (/^(Get|List)/.test(shortName(m)) || shortName(m) === 'BatchGetStockLevels'),
  allocator: (m) => RULES.reader(m) || (serviceOf(m) === INVENTORY && ['AllocateStock', 'ReleaseAllocation', 'FulfillAllocation'].includes(shortName(m))),
  'stock-keeper': (m) => RULES.reader(m) || (serviceOf(m) === INVENTORY && STOCK_KEEPING.includes(shortName(m))),
  'catalog-admin': (m) => RULES.reader(m) || (serviceOf(m) === INVENTORY && /^(Create|Update)(Warehouse|Item)$/.test(shortName(m))),
  auditor: (m) => serviceOf(m) === EVENTS,
  admin: () => true,
};

const fileSchema = z
  .object({
    roles: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a role name is lowercase letters, digits and -'), z.array(z.string()).min(1)).optional(),
    identities: z
      .array(
        z
          .object({
            identity: z.string().min(1).max(512),
            roles: z.array(z.string().min(1)).min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export class PolicyError extends Error {
  override name = 'PolicyError';
}

interface Entry {
  readonly identity: string;
  readonly matches: (identity: string) => boolean;
  readonly roles: readonly string[];
}

/**
 * Who may call what: identities (exact, or a glob: `*` within one `/`-separated segment,
 * `**` across segments) mapped to roles, each role a set of methods.
 */
export class Policy {
  private readonly roleMethods: ReadonlyMap<string, ReadonlySet<MethodName>>;
  private readonly cache = new Map<string, readonly string[]>();

  private constructor(
    private readonly entries: readonly Entry[],
    roleMethods: Map<string, Set<MethodName>>,
  ) {
    this.roleMethods = roleMethods;
  }

  /**
   * Validates a policy document against the service methods; every problem names its
   * entry (`identities[2].roles[0]`, `roles.replenisher[1]`).
   */
  static of(doc: unknown, methods: readonly MethodName[], source = 'the policy'): Policy {
    const parsed = fileSchema.safeParse(doc);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top)'}: ${i.message}`);
      throw new PolicyError(`${source}: ${problems.join('; ')}`);
    }
    const known = new Set(methods);
    const roleMethods = new Map<string, Set<MethodName>>();
    for (const role of BUILT_IN_ROLES) roleMethods.set(role, new Set(methods.filter(RULES[role])));
    for (const [name, list] of Object.entries(parsed.data.roles ?? {})) {
      if (roleMethods.has(name)) throw new PolicyError(`${source}: roles.${name}: a built-in role cannot be redefined`);
      const set = new Set<MethodName>();
      list.forEach((m, i) => {
        const method = m.replace(/^\//, '');
        if (!known.has(method)) throw new PolicyError(`${source}: roles.${name}[${i}]: ${JSON.stringify(m)} is not a method of this service (a fully qualified name such as ${INVENTORY}/GetItem)`);
        set.add(method);
      });
      roleMethods.set(name, set);
    }
    const entries = parsed.data.identities.map((e, i): Entry => {
      e.roles.forEach((r, j) => {
        if (!roleMethods.has(r)) throw new PolicyError(`${source}: identities[${i}].roles[${j}]: unknown role ${JSON.stringify(r)} (known: ${[...roleMethods.keys()].join(', ')})`);
      });
      const glob = /[*?[\]{}!]/.test(e.identity);
      return { identity: e.identity, matches: glob ? picomatch(e.identity, { dot: true }) : (id) => id === e.identity, roles: e.roles };
    });
    return new Policy(entries, roleMethods);
  }

  /** Reads AUTH_POLICY_FILE (YAML, of which JSON is a subset). */
  static load(file: string, methods: readonly MethodName[]): Policy {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new PolicyError(`AUTH_POLICY_FILE=${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new PolicyError(`AUTH_POLICY_FILE=${file}: not YAML or JSON (${(err as Error).message.split('\n')[0]})`);
    }
    return Policy.of(doc, methods, `AUTH_POLICY_FILE=${file}`);
  }

  /** Every role of every entry that matches the identity. */
  rolesOf(identity: string): readonly string[] {
    let roles = this.cache.get(identity);
    if (roles === undefined) {
      roles = [...new Set(this.entries.filter((e) => e.matches(identity)).flatMap((e) => e.roles))];
      if (this.cache.size > 10_000) this.cache.clear(); // identities are few; never let a flood grow it
      this.cache.set(identity, roles);
    }
    return roles;
  }

  allows(roles: readonly string[], method: MethodName): boolean {
    return roles.some((r) => this.roleMethods.get(r)?.has(method) === true);
  }

  /** The methods of a role (for tests and docs). */
  methodsOf(role: string): ReadonlySet<MethodName> {
    return this.roleMethods.get(role) ?? new Set();
  }
}
