/**
 * What the organization's SCPs leave of the template in the request's account, from the
 * snapshot the request carries (no AWS call here). Shown under the template summary on the
 * approval message; SCP and OU names come from Organizations, where member-account admins may
 * name things, so every part is escaped.
 */
import type { EffectiveAccess } from '../../domain/effective-access.js';
import { changeText, removalText } from '../../domain/effective-access.js';
import { escapeMrkdwn } from '../mrkdwn.js';

/** mrkdwn for the approval message; undefined when there is nothing to add to the template summary. */
export function effectiveAccessMrkdwn(effective: EffectiveAccess | undefined): string | undefined {
  if (!effective) return undefined;
  if (effective.unavailable) {
    return ':warning: *SCPs could not be read*: the access above is the template’s, before the organization’s SCPs.';
  }
  if (effective.exempt === 'management-account') {
    return '*After SCPs*: SCPs do not apply to the management account; the template’s access is what it grants.';
  }
  if (effective.exempt) return undefined;
  if (effective.allowed === effective.asked) {
    return `*After SCPs*: the SCPs on this account’s path leave all ${effective.asked} actions of the template.`;
  }
  const lines = [
    `*After SCPs, in this account*: ${effective.allowed} of the template’s ${effective.asked} actions`,
  ];
  if (effective.deniedBy) lines.push(`:no_entry: ${escapeMrkdwn(removalText(effective.deniedBy))}`);
  // What changed against the template summary above: the services the SCPs reduce.
  for (const change of effective.changes ?? []) lines.push(`• ${escapeMrkdwn(changeText(change))}`);
  for (const note of effective.notes ?? []) lines.push(`⚠ ${escapeMrkdwn(note)}`);
  return lines.join('\n');
}
