/**
 * Names read from Organizations (accounts, OUs, SCPs) are chosen by whoever administers a member
 * account or the organization, and they reach Slack inside texts the bot composes, next to the
 * bot's own `<@U…>` mentions (requester DMs, a group's status note), where only those mentions
 * are kept. So `<` and `>` in such a name become the look-alikes `‹` and `›` when it is read: no
 * name can then read as a mention, a link or `@channel`, wherever it is shown later. Names from
 * the operator's own config are left as they are (and escaped where shown).
 */
export function organizationsName(raw: string): string {
  return raw.replace(/</g, '‹').replace(/>/g, '›');
}
