import type { App } from '@slack/bolt';
import type { AppConfig } from '../../config/schema.js';
import { register as registerAwsAccessCommand } from './commands/aws-access.js';

export interface ListenerContext {
  config: AppConfig;
}

export function registerListeners(app: App, context: ListenerContext): void {
  registerAwsAccessCommand(app, context.config.slack.command);
}
