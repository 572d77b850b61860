export * from './deps.js';
export * from './effects.js';
export * from './handle-event.js';
export * from './orders.js';
