/** Type-ahead for the account field of the request form. */
import type { ListenerApp } from '../../listener-router.js';
import { accountOptions } from '../../views/request-modal.js';
import type { FlowContext } from '../context.js';

export function register(app: ListenerApp, context: FlowContext): void {
  app.options('account', async ({ ack, options, body }) => {
    // Guests and others who may not ask learn nothing about the accounts.
    if (await context.requests.whyIneligible(body.user.id)) {
      await ack({ options: [] });
      return;
    }
    const accounts = await context.accounts.listAccounts();
    await ack({ options: accountOptions(accounts, options.value ?? '') });
  });
}
