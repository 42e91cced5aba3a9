export { register } from './accept-risk-action.js';
export { SlackPostureNotifier } from './notifier.js';
export { SlackChangeAlertNotifier } from './change-alerts.js';
