export * from './types.js';
export * from './evaluate.js';
export * from './owners.js';
export * from './enforcement.js';
export * from './reminders.js';
export * from './digest.js';
export * from './calendar.js';
