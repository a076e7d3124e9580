import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Derives the DynamoDB IAM actions a program can call from its source: every module
 * reachable from the entry point through value imports (static, re-exports, dynamic),
 * every `...Command` class such a module imports from @aws-sdk/client-dynamodb, each
 * mapped to the IAM action(s) it needs. A command without a known mapping is an error,
 * so a new kind of call cannot slip through unmapped.
 */

const SDK = '@aws-sdk/client-dynamodb';

/** Commands whose IAM action is their own name. */
const ONE_TO_ONE = new Set([
  'BatchGetItem', 'BatchWriteItem', 'CreateBackup', 'CreateTable', 'DeleteBackup', 'DeleteItem', 'DeleteTable',
  'DescribeBackup', 'DescribeContinuousBackups', 'DescribeTable', 'DescribeTimeToLive', 'GetItem', 'ListTables',
  'PutItem', 'Query', 'RestoreTableToPointInTime', 'Scan', 'UpdateContinuousBackups', 'UpdateItem', 'UpdateTable',
  'UpdateTimeToLive',
]);

/**
 * Commands authorised per item or per statement (there is no IAM action of their name):
 * the actions follow from what the module puts in them.
 */
const BY_CONTENT: Record<string, (source: string) => string[]> = {
  TransactWriteItems: (src) => [
    ...(/\bPut\s*:/.test(src) ? ['PutItem'] : []),
    ...(/\bUpdate\s*:/.test(src) ? ['UpdateItem'] : []),
    ...(/\bDelete\s*:/.test(src) ? ['DeleteItem'] : []),
    ...(/\bConditionCheck\s*:/.test(src) ? ['ConditionCheckItem'] : []),
  ],
  TransactGetItems: () => ['GetItem'],
  ExecuteStatement: partiql,
  BatchExecuteStatement: partiql,
  ExecuteTransaction: partiql,
};

function partiql(src: string): string[] {
  return [
    ...(/\bINSERT\s+INTO\b/i.test(src) ? ['PartiQLInsert'] : []),
    ...(/\bSELECT\b[\s\S]*?\bFROM\b/i.test(src) ? ['PartiQLSelect'] : []),
    ...(/\bUPDATE\s+["'\w]/i.test(src) && /\bSET\b/.test(src) ? ['PartiQLUpdate'] : []),
    ...(/\bDELETE\s+FROM\b/i.test(src) ? ['PartiQLDelete'] : []),
  ];
}

/** Relative value imports of a TypeScript module (type-only imports load nothing). */
export function valueImports(source: string): string[] {
  const found: string[] = [];
  const statement = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(statement)) {
    if (m[2] !== undefined) continue;
    const clause = m[3] ?? '';
    // `import { type A, type B } from` loads the module under verbatimModuleSyntax, but
    // with the project's settings it is elided: treat an all-type clause as type-only.
    const names = /^\{([^}]*)\}$/.exec(clause.trim());
    if (names !== null && names[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    found.push(m[4]!);
  }
  for (const m of source.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

/** The `...Command` value imports from the DynamoDB client in one module. */
export function dynamoCommands(source: string): string[] {
  const out: string[] = [];
  const statement = /import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]@aws-sdk\/client-dynamodb['"]/g;
  for (const m of source.matchAll(statement)) {
    if (m[1] !== undefined) continue;
    for (const raw of m[2]!.split(',')) {
      const name = raw.trim();
      if (name === '' || name.startsWith('type ')) continue;
      const imported = name.split(/\s+as\s+/)[0]!.trim();
      if (imported.endsWith('Command')) out.push(imported.slice(0, -'Command'.length));
    }
  }
  if (new RegExp(`import\\s+\\*\\s+as\\s+\\w+\\s+from\\s+['"]${SDK.replace('/', '\\/')}['"]`).test(source)) {
    throw new Error(`a namespace import of ${SDK} hides which commands are used: import them by name`);
  }
  return out;
}

/** Every module reachable from `entry` (absolute path of a .ts file). */
export function reachableModules(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of valueImports(fs.readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const resolved = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      const candidates = [resolved, `${resolved}.ts`, path.join(resolved, 'index.ts')];
      const hit = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
      if (hit === undefined) throw new Error(`${file}: cannot resolve import ${spec}`);
      queue.push(hit);
    }
  }
  return [...seen].sort();
}

export interface DerivedActions {
  /** IAM actions, `dynamodb:` prefixed, sorted. */
  readonly actions: string[];
  /** Which module needs each action (for failure messages). */
  readonly why: Record<string, string[]>;
}

/** The DynamoDB actions the program starting at `entry` can call. */
export function deriveActions(entry: string): DerivedActions {
  const why: Record<string, string[]> = {};
  for (const file of reachableModules(entry)) {
    const source = fs.readFileSync(file, 'utf8');
    for (const command of dynamoCommands(source)) {
      let actions: string[];
      if (ONE_TO_ONE.has(command)) actions = [command];
      else if (BY_CONTENT[command] !== undefined) {
        actions = BY_CONTENT[command](source);
        if (actions.length === 0) throw new Error(`${file}: cannot tell which items or statements ${command}Command carries`);
      } else throw new Error(`${file}: no IAM mapping for ${command}Command; add it to deploy/aws/test/code-actions.ts`);
      for (const a of actions) (why[`dynamodb:${a}`] ??= []).push(path.basename(file));
    }
  }
  return { actions: Object.keys(why).sort(), why };
}
