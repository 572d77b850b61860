/**
 * The sandbox's HTTP server on loopback, playing API Gateway, the status function's URL and the
 * demo's host: a route table maps (method, path pattern) to a target, the first match wins, and a
 * request no route matches gets a 404. A pattern is a path of literal segments, `{name}` for
 * one non-empty segment, and an optional trailing `*` for any rest. A target that throws answers
 * 500 INTERNAL (and is logged). The server's close goes on the cleanup stack.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './apigw.js';
import type { Cleanup } from './cleanup.js';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** The request URL, resolved against the gateway's own. */
  url: URL;
}

export type Target = (x: Exchange) => Promise<void>;

/** `'*'` matches any method. */
export type Route = [method: 'GET' | 'POST' | 'OPTIONS' | '*', pattern: string, target: Target];

export interface Gateway {
  url: string;
  port: number;
  /** Starts answering requests with `routes`. */
  serve(routes: readonly Route[]): void;
}

/** Listens on `port` (0: a free one); requests wait for `serve`. */
export async function listenGateway(port: number, cleanup: Cleanup, log: (s: string) => void): Promise<Gateway> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  cleanup.add(() => new Promise((r) => server.close(() => r(undefined))));
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${actualPort}`;

  return {
    url,
    port: actualPort,
    serve(routes) {
      const table = routes.map(([method, pattern, target]) => ({ method, path: compile(pattern), target }));
      const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const u = new URL(req.url ?? '/', url);
        const route = table.find((r) => (r.method === '*' || r.method === req.method) && r.path.test(u.pathname));
        return (route?.target ?? notFound)({ req, res, url: u });
      };
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        void dispatch(req, res).catch((e) => {
          log(`request failed: ${(e as Error).stack ?? e}`);
          if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error.' } });
        });
      });
    },
  };
}

/** A route pattern as a regular expression of the whole path. */
function compile(pattern: string): RegExp {
  const source = pattern
    .replace(/[.+?^$()|[\]\\]/g, '\\$&')
    .replace(/\{\w+\}/g, '[^/]+')
    .replace(/\*$/, '.*');
  return new RegExp(`^${source}$`);
}

/** The gateway's answer to a request no route takes. */
export const notFound: Target = async ({ req, res, url }) =>
  sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `No route ${req.method} ${url.pathname}.` } });

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** A JSON body of at most 64 KB; undefined when it is not one. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  try {
    return JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
  } catch {
    return undefined;
  }
}
