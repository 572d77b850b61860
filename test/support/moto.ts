/** Tests start moto the way the sandbox does (scripts/moto.ts). */
export * from '../../scripts/moto.js';
