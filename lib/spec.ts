/**
 * The resource settings, for the CDK stack: defined in lambdas/spec.ts, where the Lambda code can
 * read them without importing lib/.
 */
export * from '../lambdas/spec.js';
