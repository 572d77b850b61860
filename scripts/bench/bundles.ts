/**
 * Bundles handlers with esbuild exactly as the stack does (lib/constructs/lambda-function.ts:
 * ESM, minified, target node22, main fields module,main, source map without sources, the
 * `require` banner, `@aws-sdk/*` external), plus a variant with `@aws-sdk/*` bundled in for the
 * local runs: Lambda's Node.js 22 runtime provides the SDK, a bare Node 20 process does not.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The repository root (this file is scripts/bench/bundles.ts). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const RESULTS_DIR = join(PROJECT_ROOT, 'bench-results');
export const BUNDLE_DIR = join(RESULTS_DIR, 'bundles');

/** Same text as the stack's ESM_REQUIRE_BANNER. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __orchestratorCreateRequire } from 'node:module';" +
  'const require = __orchestratorCreateRequire(import.meta.url);';

export interface HandlerBundle {
  name: string;
  entry: string;
  /** What gets deployed: `@aws-sdk/*` external. */
  deployedBytes: number;
  deployedFile: string;
  /** What runs here: `@aws-sdk/*` bundled in. */
  localBytes: number;
  localFile: string;
}

async function bundleOne(entry: string, outfile: string, sdkExternal: boolean): Promise<number> {
  await build({
    entryPoints: [resolve(PROJECT_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    banner: { js: ESM_REQUIRE_BANNER },
    external: sdkExternal ? ['@aws-sdk/*'] : [],
    logLevel: 'error',
  });
  return statSync(outfile).size;
}

export async function bundleHandler(name: string, entry: string): Promise<HandlerBundle> {
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const deployedFile = join(BUNDLE_DIR, `${name}.sdk-external.mjs`);
  const deployedBytes = await bundleOne(entry, deployedFile, true);
  const localFile = join(BUNDLE_DIR, `${name}.sdk-bundled.mjs`);
  const localBytes = await bundleOne(entry, localFile, false);
  return { name, entry, deployedBytes, deployedFile, localBytes, localFile };
}

/** A plain (unminified) bundle of one of the bench's own child-process runners. */
export async function bundleRunner(name: string, entry: string): Promise<string> {
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const outfile = join(BUNDLE_DIR, `${name}.mjs`);
  await build({
    entryPoints: [resolve(PROJECT_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  });
  return outfile;
}
