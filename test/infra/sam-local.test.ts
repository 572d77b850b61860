/**
 * `sam local invoke -t cdk.out/OrderOrchestrator.template.json <LogicalId>` works only if the
 * logical ids README uses exist in the synthesized template and each function's
 * `Metadata['aws:asset:path']` points at a bundled directory with the handler file. This test
 * synthesizes the app to a temporary cloud assembly (as `npm run synth` does to cdk.out) and
 * checks exactly that.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.js';
import { PROJECT_ROOT } from '../../lib/constructs/lambda-function.js';
import { STACK_NAME } from '../../lib/stack.js';

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };

const FUNCTION_IDS = ['ApiFunction', 'IngressFunction', 'WorkerFunction', 'StatusFunction'];

let outdir: string;
let resources: Record<string, Resource>;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'orchestrator-cdk-out-'));
  const { app } = buildApp({ outdir, nag: false });
  app.synth();
  const template = JSON.parse(readFileSync(path.join(outdir, `${STACK_NAME}.template.json`), 'utf8')) as {
    Resources: Record<string, Resource>;
  };
  resources = template.Resources;
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/** Logical ids README passes to `sam local invoke` (if README has such commands yet). */
function readmeLogicalIds(): string[] {
  const readme = path.join(PROJECT_ROOT, 'README.md');
  if (!existsSync(readme)) return [];
  const ids = new Set<string>();
  for (const line of readFileSync(readme, 'utf8').split('\n')) {
    const m = /\bsam\s+local\s+invoke\b(.*)$/.exec(line);
    if (!m?.[1]) continue;
    // The function is the one positional argument that looks like a logical id.
    for (const token of m[1].split(/\s+/)) if (/^[A-Z][A-Za-z0-9]*Function$/.test(token)) ids.add(token);
  }
  return [...ids];
}

describe('sam local against the synthesized template', () => {
  it.each(FUNCTION_IDS)('%s exists with aws:asset:path → a directory with index.mjs exporting handler', (id) => {
    const r = resources[id];
    expect(r?.Type).toBe('AWS::Lambda::Function');
    expect(r?.Properties?.Handler).toBe('index.handler');
    const assetPath = r?.Metadata?.['aws:asset:path'];
    expect(typeof assetPath).toBe('string');
    const dir = path.resolve(outdir, String(assetPath));
    expect(statSync(dir).isDirectory()).toBe(true);
    const bundle = path.join(dir, 'index.mjs');
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(`${bundle}.map`)).toBe(true);
    const code = readFileSync(bundle, 'utf8');
    expect(code).toMatch(/^import\s*\{\s*createRequire/);
    expect(code).toMatch(/export\s*\{[^}]*\bas handler\b|export\s*\{[^}]*\bhandler\b/);
    // @aws-sdk/* stays external (in the Node.js 22 runtime); nothing else is left unresolved.
    const bareImports = [...code.matchAll(/\bfrom\s*"([^".][^"]*)"/g)].map((m) => m[1] as string);
    const allowed = (spec: string) =>
      spec.startsWith('@aws-sdk/') || spec.startsWith('node:') || builtinModules.includes(spec);
    for (const spec of bareImports) expect(allowed(spec), `import of ${spec}`).toBe(true);
    // Valid ES module syntax.
    execFileSync(process.execPath, ['--check', bundle]);
  });

  // The runtime loads every `@aws-sdk/*` package a bundle imports at init, used or not (esbuild
  // keeps imports of external packages): each function must import only its own clients.
  it.each<[string, string[]]>([
    ['IngressFunction', ['@aws-sdk/client-sqs']],
    ['StatusFunction', ['@aws-sdk/client-dynamodb']],
    ['ApiFunction', ['@aws-sdk/client-dynamodb', '@aws-sdk/client-eventbridge', '@aws-sdk/client-scheduler']],
    ['WorkerFunction', ['@aws-sdk/client-dynamodb', '@aws-sdk/client-eventbridge', '@aws-sdk/client-scheduler']],
  ])('%s imports exactly the AWS SDK clients it uses: %j', (id, clients) => {
    const dir = path.resolve(outdir, String(resources[id]?.Metadata?.['aws:asset:path']));
    const code = readFileSync(path.join(dir, 'index.mjs'), 'utf8');
    // Static imports (`import … from "…"`, bare `import "…"`), evaluated at init. A dynamic
    // `import("…")` (the Secrets Manager fallback when the extension is absent) loads only if called.
    const staticImport = /\bimport\s*(?:[\w$*{}\s,]+?\s*from\s*)?["'](@aws-sdk\/client-[a-z0-9-]+)["']/g;
    const sdk = new Set([...code.matchAll(staticImport)].map((m) => m[1] as string));
    expect([...sdk].sort()).toEqual(clients);
  });

  // `sam local invoke --env-vars env.json` sets only the variables the template declares on the
  // function (samcli/local/lambdafn/env_vars.py resolves the template's variables, then overrides
  // them), so each payment setting env.example.json gives must be declared there.
  it('the payment settings of events/env.example.json are declared on the functions that read them', () => {
    const example = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'events', 'env.example.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    for (const id of ['ApiFunction', 'WorkerFunction']) {
      const environment = resources[id]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
      const declared = environment?.Variables ?? {};
      for (const name of ['PAYMENT_API', 'PAYMENT_EXPIRY_SECONDS', 'WECHAT_APP_ID']) {
        expect(example[id], `${id} ${name} in env.example.json`).toHaveProperty(name);
        expect(declared, `${id} ${name} in the template`).toHaveProperty(name);
      }
    }
  });

  it('every logical id README uses with `sam local invoke` exists as a function with asset metadata', () => {
    for (const id of new Set([...FUNCTION_IDS, ...readmeLogicalIds()])) {
      expect(resources[id]?.Type, id).toBe('AWS::Lambda::Function');
      expect(resources[id]?.Metadata?.['aws:asset:path'], id).toBeDefined();
    }
  });
});
