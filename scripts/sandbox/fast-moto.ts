/**
 * An optional, faster way to run moto_server for heavy sandbox runs (reliability tests,
 * benchmarks). Two hot spots of moto 5 are taken out at start-up, before the server runs;
 * behaviour is unchanged:
 * - its server routes every request under one global lock and, while holding it, lists its own
 *   package directory (`moto.backends.list_of_moto_modules`: a listdir and a stat per service,
 *   well over a hundred system calls per request): the list is computed once;
 * - SQS recomputes the queue's message counts several times per SendMessage, reading "now"
 *   through datetime objects for every message (`unix_time()` / `unix_time_millis()` without an
 *   argument), so each call costs O(messages in the queue) at tens of microseconds per message;
 *   with a deep FIFO queue (a burst of webhooks behind busy groups) throughput collapses. "Now"
 *   is read with `time.time()` instead: the same instant, without the allocations.
 * Together they roughly halve moto's time per request, and keep it flat as the queue deepens.
 *
 * `fastMotoCommand` writes a tiny executable that starts moto that way with the Python that has
 * moto installed, for scripts/moto.ts `startMoto(command)`; it returns undefined (use the plain
 * command) when no such Python is found.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const BOOT = [
  'import sys, time',
  'import moto.backends as b',
  'mods = tuple(b.list_of_moto_modules())',
  'b.list_of_moto_modules = lambda: mods',
  'import moto.sqs.models as q',
  'ut, utm = q.unix_time, q.unix_time_millis',
  'q.unix_time = lambda dt=None: time.time() if dt is None else ut(dt)',
  'q.unix_time_millis = lambda dt=None: time.time() * 1000.0 if dt is None else utm(dt)',
  'from moto.server import main',
  "sys.argv = ['moto_server'] + sys.argv[1:]",
  'sys.exit(main())',
].join('\n');

export interface FastMoto {
  command: string;
  cleanup(): void;
}

/** `motoServer`: the moto_server command the sandbox would run (its Python is looked for next to it). */
export function fastMotoCommand(motoServer: string): FastMoto | undefined {
  const candidates = [join(dirname(motoServer), 'python3'), join(dirname(motoServer), 'python'), 'python3'];
  const python = candidates.find(
    (p) => spawnSync(p, ['-c', 'import moto.backends, moto.server'], { stdio: 'ignore' }).status === 0,
  );
  if (!python) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'fast-moto-'));
  const command = join(dir, 'moto_server');
  const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(command, `#!/bin/sh\nexec ${quoted(python)} -c ${quoted(BOOT)} "$@"\n`);
  chmodSync(command, 0o755);
  return { command, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
