/** App Home: published whenever the user opens it, and after a Home button changes something. */
import type { ListenerApp } from '../../listener-router.js';
import type { WebClient } from '@slack/web-api';
import { appHomeView } from '../../views/app-home.js';
import type { FlowContext } from '../context.js';

export async function publishHome(client: WebClient, context: FlowContext, userId: string): Promise<void> {
  const [mine, waiting] = await Promise.all([
    context.requests.listFor(userId),
    context.requests.waitingFor(userId),
  ]);
  await client.views.publish({
    user_id: userId,
    view: appHomeView({
      active: mine.active,
      pending: mine.pending,
      waiting: waiting.approvals,
      reviews: waiting.reviews,
    }),
  });
}

export function register(app: ListenerApp, context: FlowContext): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab && event.tab !== 'home') return;
    await publishHome(client, context, event.user);
  });
}
