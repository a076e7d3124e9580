/** EMBEDDED_DYNAMODB: which DynamoDB API the service starts when DYNAMODB_ENDPOINT is unset. */
export const EMBEDDED_DYNAMO_KINDS = ['auto', 'dynamodb-local', 'dynalite'] as const;
export type EmbeddedDynamoKind = (typeof EMBEDDED_DYNAMO_KINDS)[number];
