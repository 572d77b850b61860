/**
 * The naive ingress: what the webhook function looks like with stripe-node, as Stripe's docs
 * show it (`stripe.webhooks.constructEvent` on the raw body), then one SQS send. Bundled like
 * the real handlers, for the cold-start comparison.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import Stripe from 'stripe';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY ?? '');
const sqs = new SQSClient({});

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const signature = event.headers['Stripe-Signature'] ?? event.headers['stripe-signature'] ?? '';
  let parsed: Stripe.Event;
  try {
    parsed = stripe.webhooks.constructEvent(event.body ?? '', signature, process.env.STRIPE_WEBHOOK_SECRET ?? '');
  } catch {
    return { statusCode: 400, body: '{"error":"invalid signature"}' };
  }
  const object = parsed.data.object as { metadata?: Record<string, string> };
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.QUEUE_URL,
      MessageBody: JSON.stringify({ id: parsed.id, type: parsed.type, created: parsed.created }),
      MessageGroupId: object.metadata?.order_id ?? parsed.id,
      MessageDeduplicationId: parsed.id,
    }),
  );
  return { statusCode: 200, body: '{"received":true}' };
}
