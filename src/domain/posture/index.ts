export * from './kinds.js';
export * from './types.js';
export * from './evaluate.js';
export * from './checks.js';
export * from './admin-equivalent.js';
export * from './access-role-drift.js';
export * from './review-account.js';
