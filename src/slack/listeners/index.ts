import type { ListenerApp } from '../listener-router.js';
import { register as registerGroupDecisions } from './actions/group-decisions.js';
import { register as registerRequestDecisions } from './actions/request-decisions.js';
import { register as registerHomeActions } from './actions/home-actions.js';
import { register as registerAwsAccessCommand } from './commands/aws-access.js';
import { isFlowContext, type ListenerContext } from './context.js';
import { register as registerAppHome } from './events/app-home-opened.js';
import { register as registerAccountOptions } from './options/account-options.js';
import { register as registerRequestForms } from './views/request-forms.js';

export type { ListenerContext } from './context.js';

export function registerListeners(app: ListenerApp, context: ListenerContext): void {
  registerAwsAccessCommand(app, context);
  if (!isFlowContext(context)) return;
  registerRequestDecisions(app, context);
  registerGroupDecisions(app, context);
  registerHomeActions(app, context);
  registerRequestForms(app, context);
  registerAccountOptions(app, context);
  registerAppHome(app, context);
}
