import type { AppConfig } from '../../config/schema.js';
import type { IntakeQueue } from '../../domain/intake.js';
import type { AccountDirectory, TemplateCatalog } from '../../domain/ports.js';
import type { RequestService } from '../../domain/request-service.js';
import type { Logger } from '../../logger.js';

/** What every listener may use. Listeners decide nothing: they parse, call the service, present. */
export interface ListenerContext {
  config: AppConfig;
  requests?: RequestService;
  accounts?: AccountDirectory;
  templates?: TemplateCatalog;
  /** Where a one-line request goes after its ack (a job the worker role runs). */
  intake?: IntakeQueue;
  logger?: Logger;
}

export interface FlowContext extends ListenerContext {
  requests: RequestService;
  accounts: AccountDirectory;
  templates: TemplateCatalog;
  intake: IntakeQueue;
  logger: Logger;
}

export function isFlowContext(context: ListenerContext): context is FlowContext {
  return Boolean(
    context.requests && context.accounts && context.templates && context.intake && context.logger,
  );
}
