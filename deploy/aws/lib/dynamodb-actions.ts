/**
 * The DynamoDB actions each task role grants, on the event table only. Kept by hand on
 * purpose: test/iam.unit.test.ts derives the same sets from the DynamoDB commands the code
 * imports, so a new call without its permission (or a permission nothing calls) fails
 * `make test` instead of failing in production with AccessDenied.
 */

/** The service (src/main.ts and every module it imports). */
export const SERVICE_DYNAMODB_ACTIONS = [
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
] as const;

/** Operator commands verify and rebuild (src/admin/cli.ts), run as one-off tasks. */
export const OPERATOR_DYNAMODB_ACTIONS = [
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:UpdateItem',
] as const;

/**
 * Table management: the stack owns the table's shape, capacity, TTL and backups, so no
 * task may change them. The code calls these only against a local DynamoDB (embedded
 * mode creates its table) and in `provision`, which a deployment made by this stack does
 * not need.
 */
export const TABLE_MANAGEMENT_ACTIONS = [
  'dynamodb:CreateTable',
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
  'dynamodb:UpdateTimeToLive',
  'dynamodb:DescribeTimeToLive',
  'dynamodb:UpdateContinuousBackups',
  'dynamodb:DescribeContinuousBackups',
] as const;
