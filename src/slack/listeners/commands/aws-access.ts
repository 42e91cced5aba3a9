import type { App } from '@slack/bolt';
import { CommandSyntaxError, parseCommand, USAGE } from '../../../domain/command.js';

export const HELP_TEXT = [
  '*aws-access* gives you just-in-time AWS access: ask, get approved, get a role that ends on its own.',
  USAGE,
].join('\n');

export function register(app: App, command: string): void {
  app.command(command, async ({ command: cmd, ack }) => {
    let parsed;
    try {
      parsed = parseCommand(cmd.text ?? '');
    } catch (error) {
      if (error instanceof CommandSyntaxError) {
        await ack({ response_type: 'ephemeral', text: `:warning: ${error.message}\n\n${error.usage}` });
        return;
      }
      throw error;
    }
    if (parsed.kind === 'help') {
      await ack({ response_type: 'ephemeral', text: HELP_TEXT });
      return;
    }
    await ack({ response_type: 'ephemeral', text: `\`${parsed.kind}\` is not available yet.\n\n${USAGE}` });
  });
}
