/** How the grant engine is put together (src/aws/create-aws-services.ts fills these in). */
import type { Clock } from '../../domain/ports.js';
import type { Logger } from '../../logger.js';
import type { BoundaryTemplate } from '../../templates/boundary-template.js';
import type { AccountClients } from '../account-clients.js';

export interface RoleGrantEngineOptions {
  /** Broker sessions: grant roles are created, changed and removed in these. */
  clients: AccountClients;
  /**
   * Boundary-writer sessions (`aws.boundaryWriterRoleName`): the only ones that write
   * `/aws-access/boundary-*`. Default: `clients` (tests, a single-role setup).
   */
  boundaryClients?: AccountClients;
  /** The account of the bot's own credentials; grants there are refused unless allowed. */
  botAccountId?: () => Promise<string>;
  allowGrantsInBotAccount?: boolean;
  templates: { template(name: string): BoundaryTemplate | undefined };
  partition: string;
  region: string;
  brokerRoleName: string;
  delivery: 'assume' | 'credentials';
  federationEndpoint: string;
  consoleUrl: string;
  clock: Clock;
  logger?: Logger;
  /**
   * How long to pause in all for IAM to make a new role assumable (default 60 s; the schedule of
   * tries is in assumable-wait.ts).
   */
  assumableTimeoutMs?: number;
  /** Injectable so tests do not really wait. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}
