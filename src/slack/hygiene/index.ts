export { register, type HygieneListenerDeps } from './snooze-action.js';
export * from './messages.js';
export * from './notifier.js';
export * from './people-directory.js';
export * from './adapters.js';
