/**
 * CDK app entry (cdk.json: `npx tsx lib/app.ts`). One stack, `OrderOrchestrator`, environment
 * agnostic (no account or region, no lookups), so `cdk synth` works offline without credentials.
 * cdk-nag's AwsSolutions pack runs at synth: an unacknowledged error fails the synth.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OrderOrchestratorStack, type OrderOrchestratorStackProps, STACK_NAME, StackSettingsError } from './stack.js';

/** Context this app always sets; the CLI or the caller may override. */
export const APP_CONTEXT: Record<string, unknown> = {
  // `Metadata['aws:asset:path']` on the functions, which `sam local invoke -t cdk.out/…` needs.
  // The CLI sets it; in-process synths (tests) need it too.
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:enable-path-metadata': true,
};

export interface BuildAppOptions {
  /** Extra context (e.g. alarmEmail, corsOrigins, destroyOnRemoval, paymentApi, paymentExpirySeconds, wechatAppId). */
  context?: Record<string, unknown>;
  stackProps?: OrderOrchestratorStackProps;
  /** Register cdk-nag's AwsSolutions checks (default true). */
  nag?: boolean;
  outdir?: string;
}

export function buildApp(options: BuildAppOptions = {}): { app: App; stack: OrderOrchestratorStack } {
  const props: AppProps = {
    analyticsReporting: false,
    context: { ...APP_CONTEXT, ...options.context },
    ...(options.outdir ? { outdir: options.outdir } : {}),
  };
  const app = new App(props);
  const stack = new OrderOrchestratorStack(app, STACK_NAME, options.stackProps);
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  try {
    buildApp().app.synth();
  } catch (e) {
    // A bad -c setting: its message is the whole story, not a stack trace.
    if (!(e instanceof StackSettingsError)) throw e;
    console.error(`\n${e.message}\n`);
    process.exit(1);
  }
}
