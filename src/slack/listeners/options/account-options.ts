/** Type-ahead for the account field of the request form. */
import type { App } from '@slack/bolt';
import { accountOptions } from '../../views/request-modal.js';
import type { FlowContext } from '../context.js';

export function register(app: App, context: FlowContext): void {
  app.options('account', async ({ ack, options }) => {
    const accounts = await context.accounts.listAccounts();
    await ack({ options: accountOptions(accounts, options.value ?? '') });
  });
}
