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
      name: 'lambdas-do-not-import-cdk',
      comment: 'Lambda code may read the plain resource settings in lib/spec.ts, nothing else of lib/.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^(node_modules/(aws-cdk-lib|constructs|cdk-nag)/|lib/)', pathNot: '^lib/spec\\.ts$' },
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
