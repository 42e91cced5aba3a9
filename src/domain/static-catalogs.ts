/**
 * Directories that need no outside system: accounts listed in the config file, templates handed
 * in as data. Used until (or instead of) Organizations discovery and the template loader.
 */
import { accountMatches } from './approval-policy.js';
import type { Account, AccountDirectory, TemplateCatalog, TemplateInfo } from './ports.js';

export interface StaticAccountEntry {
  id: string;
  name?: string;
  aliases?: string[];
  ouPath?: string[];
}

export function staticAccountDirectory(entries: readonly StaticAccountEntry[]): AccountDirectory {
  const accounts: Account[] = entries.map((e) => ({
    id: e.id,
    name: e.name ?? e.id,
    aliases: e.aliases ?? [],
    ouPath: (e.ouPath ?? []).map((id) => ({ id, name: id })),
  }));
  return {
    listAccounts: async () => accounts,
    findAccount: async (query) => accounts.find((a) => accountMatches(a, query)),
  };
}

export function staticTemplateCatalog(templates: readonly TemplateInfo[]): TemplateCatalog {
  return {
    list: () => [...templates],
    get: (name) => templates.find((t) => t.name.toLowerCase() === name.trim().toLowerCase()),
  };
}
