/**
 * Who the bot itself is in AWS (STS GetCallerIdentity on its own credentials, asked once and
 * cached): grants in the bot's own account are refused unless `aws.allowGrantsInBotAccount`,
 * because there a grant sits next to the bot's own role and everything it can reach.
 */
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { toAwsError } from './aws-errors.js';

export class BotIdentity {
  private pending?: Promise<{ accountId: string; arn: string }>;

  constructor(private readonly sts: Pick<STSClient, 'send'>) {}

  /** The account of the bot's own credentials. */
  async accountId(): Promise<string> {
    return (await this.identity()).accountId;
  }

  private identity(): Promise<{ accountId: string; arn: string }> {
    this.pending ??= (async () => {
      try {
        const me = await this.sts.send(new GetCallerIdentityCommand({}));
        if (!me.Account) throw new Error('GetCallerIdentity returned no account');
        return { accountId: me.Account, arn: me.Arn ?? '' };
      } catch (error) {
        throw toAwsError(error, "reading the bot's own AWS identity");
      }
    })();
    // A failure is not cached: the next caller asks again.
    this.pending.catch(() => {
      this.pending = undefined;
    });
    return this.pending;
  }
}
