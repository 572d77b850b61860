/**
 * The cold-start floor: a handler that only imports the SQS client and sends one message, the
 * least any webhook-to-queue function can do. Bundled like the real handlers.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

const sqs = new SQSClient({});

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.QUEUE_URL,
      MessageBody: event.body ?? '',
      MessageGroupId: 'floor',
      MessageDeduplicationId: String(Date.now()),
    }),
  );
  return { statusCode: 200, body: '{"received":true}' };
}
