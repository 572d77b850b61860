/** Architecture rules (docs/architecture.md, "Layers and their rules"), checked by `npm run lint` in CI. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'lambdas/domain imports nothing outside itself: no AWS, no Stripe, no node built-ins.',
      severity: 'error',
      from: { path: '^lambdas/domain/' },
      to: { pathNot: '^lambdas/domain/' },
    },
    {
      name: 'app-uses-domain-and-ports-only',
      comment: 'Use cases take ports; they never reach adapters, handlers or libraries.',
      severity: 'error',
      from: { path: '^lambdas/app/' },
      to: { pathNot: '^lambdas/(app|domain|ports)/' },
    },
    {
      name: 'ports-are-interfaces',
      severity: 'error',
      from: { path: '^lambdas/ports/' },
      to: { pathNot: '^lambdas/(domain|ports)/' },
    },
    {
      name: 'sdk-only-in-adapters-and-wiring',
      comment: 'Only lambdas/adapters and lambdas/wiring/ import the AWS SDK or stripe.',
      severity: 'error',
      from: { path: '^lambdas/', pathNot: '^lambdas/(adapters|wiring)/' },
      to: { path: '^node_modules/(@aws-sdk/|stripe/)' },
    },
    {
      name: 'lambdas-do-not-import-lib',
      comment:
        'Lambda code never imports the CDK app; the resource settings it shares with lib/ live in lambdas/spec.ts.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^(node_modules/(aws-cdk-lib|constructs|cdk-nag)/|lib/)' },
    },
    {
      name: 'spec-is-plain-data',
      comment: 'lambdas/spec.ts is read by every layer, lib/ and scripts/: it imports nothing.',
      severity: 'error',
      from: { path: '^lambdas/spec\\.ts$' },
      to: {},
    },
    {
      name: 'handlers-do-not-know-how-they-are-built',
      comment: 'Handlers take their dependencies; lambdas/wiring builds them and lambdas/entry joins the two.',
      severity: 'error',
      from: { path: '^lambdas/handlers/' },
      to: { path: '^lambdas/(wiring|entry)/' },
    },
    {
      name: 'wiring-is-not-imported-by-the-inner-layers',
      comment: 'Only entry points (and tools: scripts/, tests) import the wiring; imports run one way.',
      severity: 'error',
      from: { path: '^lambdas/', pathNot: '^lambdas/(entry|wiring)/' },
      to: { path: '^lambdas/(wiring|entry)/' },
    },
    {
      name: 'nothing-imports-entry-points',
      comment: 'lambdas/entry/* are the functions themselves (CDK `entry`); nothing builds on them.',
      severity: 'error',
      from: { pathNot: '^lambdas/entry/' },
      to: { path: '^lambdas/entry/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    exclude: { path: '(^|/)(cdk\\.out|coverage|\\.local)/' },
  },
};
