export * from './deadline.js';
export * from './effects.js';
export * from './errors.js';
export * from './events.js';
export * from './machine.js';
export * from './order.js';
export * from './validation.js';
