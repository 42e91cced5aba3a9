export * from './describe-change.js';
export * from './ports.js';
export * from './consume.js';
