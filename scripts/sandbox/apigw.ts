/**
 * What API Gateway does in front of the functions, for the sandbox: an HTTP request becomes a
 * REST API Lambda proxy event (`APIGatewayProxyEvent`), the function's result becomes the
 * response. https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, LambdaFunctionURLEvent } from 'aws-lambda';

/** API Gateway's payload limit is 10 MB; reading stops there. */
const MAX_BODY = 10 * 1024 * 1024;

export class BodyTooLarge extends Error {}

export async function readBody(req: IncomingMessage, limit = MAX_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge(`body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** Resource templates of the REST API, most specific first. */
const RESOURCES = ['/orders/{id}/status', '/orders/{id}/cancel', '/orders/{id}', '/orders', '/webhooks/stripe'];

export function matchResource(path: string): { resource: string; pathParameters: Record<string, string> | null } {
  const parts = path.split('/').filter(Boolean);
  for (const r of RESOURCES) {
    const t = r.split('/').filter(Boolean);
    if (t.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = t.every((seg, i) => {
      const part = parts[i] ?? '';
      if (!seg.startsWith('{')) return seg === part;
      params[seg.slice(1, -1)] = safeDecode(part);
      return part !== '';
    });
    if (matches) return { resource: r, pathParameters: Object.keys(params).length > 0 ? params : null };
  }
  return { resource: path, pathParameters: null };
}

export function toProxyEvent(req: IncomingMessage, body: Buffer, now: Date): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v];
    headers[k] = values.join(',');
    multiValueHeaders[k] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    multiQuery[k] = [...(multiQuery[k] ?? []), v];
  }
  const { resource, pathParameters } = matchResource(url.pathname);
  const requestId = randomUUID();
  return {
    resource,
    path: url.pathname,
    httpMethod: (req.method ?? 'GET').toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters: url.searchParams.size > 0 ? query : null,
    multiValueQueryStringParameters: url.searchParams.size > 0 ? multiQuery : null,
    pathParameters,
    stageVariables: null,
    // Text bodies reach the function as strings, as with API Gateway without binary media types.
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'sandbox',
      httpMethod: (req.method ?? 'GET').toUpperCase(),
      path: `/v1${url.pathname}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTimeEpoch: now.getTime(),
      resourceId: 'sandbox',
      resourcePath: resource,
      stage: 'v1',
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? null },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

/** What a Lambda function URL gives its function (payload format 2.0). */
export function toFunctionUrlEvent(
  req: IncomingMessage,
  rawPath: string,
  body: Buffer,
  now: Date,
): LambdaFunctionURLEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const method = (req.method ?? 'GET').toUpperCase();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.searchParams.size > 0 ? { queryStringParameters: query } : {}),
    ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
    isBase64Encoded: false,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'sandbox',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'sandbox',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  } as LambdaFunctionURLEvent;
}

export function sendResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  res.writeHead(result.statusCode, result.headers as Record<string, string> | undefined);
  res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
}

/** A Lambda context good enough for Powertools (function name, request id, remaining time). */
export function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'sandbox',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
