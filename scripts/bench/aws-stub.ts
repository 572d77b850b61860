/**
 * A tiny stand-in for the two AWS APIs the cold-start runs reach, so the real SDK clients do
 * their real work (build, sign, send, parse) against loopback: SQS SendMessage (JSON protocol,
 * with the MD5 of the body the SDK verifies) and DynamoDB GetItem (answered `{}`: no such item).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AwsStub {
  url: string;
  /** Requests answered, by `X-Amz-Target` (e.g. `AmazonSQS.SendMessage`). */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

const readAll = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

export async function startAwsStub(): Promise<AwsStub> {
  const counts: Record<string, number> = {};
  let sequence = 0;
  const server = createServer((req, res) => {
    void readAll(req).then((text) => {
      const target = String(req.headers['x-amz-target'] ?? 'unknown');
      counts[target] = (counts[target] ?? 0) + 1;
      const reply = (status: number, body: unknown) => {
        const payload = JSON.stringify(body);
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': Buffer.byteLength(payload),
          'x-amzn-requestid': randomUUID(),
        });
        res.end(payload);
      };
      if (target === 'AmazonSQS.SendMessage') {
        const input = JSON.parse(text) as { MessageBody?: string };
        const md5 = createHash('md5')
          .update(input.MessageBody ?? '', 'utf8')
          .digest('hex');
        sequence += 1;
        return reply(200, { MessageId: randomUUID(), MD5OfMessageBody: md5, SequenceNumber: String(sequence) });
      }
      if (target === 'DynamoDB_20120810.GetItem') return reply(200, {});
      return reply(400, { __type: 'UnknownOperationException', message: `bench stub: ${target}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
