import type { AppConfig } from '../../config/schema.js';
import type { AccountDirectory, TemplateCatalog } from '../../domain/ports.js';
import type { RequestService } from '../../domain/request-service.js';
import type { Logger } from '../../logger.js';

/** What every listener may use. Listeners decide nothing: they parse, call the service, present. */
export interface ListenerContext {
  config: AppConfig;
  requests?: RequestService;
  accounts?: AccountDirectory;
  templates?: TemplateCatalog;
  logger?: Logger;
}

export interface FlowContext extends ListenerContext {
  requests: RequestService;
  accounts: AccountDirectory;
  templates: TemplateCatalog;
  logger: Logger;
}

export function isFlowContext(context: ListenerContext): context is FlowContext {
  return Boolean(context.requests && context.accounts && context.templates && context.logger);
}
