/** The status function's dependencies: it reads orders, nothing else (DynamoDB client only). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoOrderStore } from '../adapters/dynamodb/order-store.js';
import { DigestSecretComparer } from '../adapters/system.js';
import { loadConfig } from '../config.js';

export async function statusDeps(
  env?: Record<string, string | undefined>,
  dynamodb: DynamoDBClient = new DynamoDBClient({}),
): Promise<{ store: DynamoOrderStore; secrets: DigestSecretComparer }> {
  const config = loadConfig(['store'], env);
  return { store: new DynamoOrderStore(dynamodb, config.tableName), secrets: new DigestSecretComparer() };
}
