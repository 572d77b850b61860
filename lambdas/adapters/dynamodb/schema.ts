/** The order table's keys and indexes, defined with the other resource settings in lambdas/spec.ts. */
export { TABLE_SCHEMA } from '../../spec.js';
