export { register, type HygieneListenerDeps } from './snooze-action.js';
export * from './messages.js';
