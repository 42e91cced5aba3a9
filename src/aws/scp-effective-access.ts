/**
 * The EffectiveAccessReader over AWS Organizations: the SCP path of the account (scp-reader.ts),
 * cached in Redis per account (store/effective-access-cache.ts) and refreshed by reconcile
 * (`refresh`), evaluated with the template (templates/effective-summary.ts). The same for both
 * grant backends: a role and an Identity Center permission set are limited by the same SCPs, and
 * the template content is the same.
 *
 * Never throws: Organizations unreachable with nothing cached (or an SCP the simulator cannot
 * read) answers `unavailable`, so the request goes on with the template summary and a note.
 */
import { createHash } from 'node:crypto';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { EffectiveAccess, EffectiveAccessReader } from '../domain/effective-access.js';
import type { Account, Clock } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import type { EffectiveAccessCache } from '../store/effective-access-cache.js';
import { evaluateWithScps } from '../templates/effective-summary.js';
import { loadIamActionCatalog } from '../templates/iam-action-catalog.js';
import { summaryInputOf, type BoundaryTemplateCatalog } from '../templates/load-templates.js';
import { readScpPath, type ScpPath } from './scp-reader.js';

export interface ScpEffectiveAccessOptions {
  organizations: OrganizationsClient;
  cache: EffectiveAccessCache<ScpPath>;
  templates: BoundaryTemplateCatalog;
  clock: Clock;
  pageSize?: number;
  /** Longest a request waits for the answer (ms); default 2,000. */
  timeoutMs?: number;
  logger?: Logger;
}

function countOf(summary: { services: Array<{ counts: Record<string, number> }> }): number {
  return summary.services.reduce((n, s) => n + Object.values(s.counts).reduce((a, b) => a + b, 0), 0);
}

export class ScpEffectiveAccess implements EffectiveAccessReader {
  constructor(private readonly options: ScpEffectiveAccessOptions) {}

  /**
   * Bounded by `timeoutMs` (default 2 s): the modal answers Slack within 3 s, so a slow or
   * throttled Organizations read answers `unavailable` rather than failing the form; the read
   * goes on and fills the cache for the next request.
   */
  async forAccount(account: Account, templateName: string): Promise<EffectiveAccess> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<EffectiveAccess>((resolve) => {
      timer = setTimeout(() => {
        this.options.logger?.warn(
          { account: account.id },
          'effective access took too long; shown as unavailable',
        );
        resolve({ asked: this.askedOf(templateName), unavailable: true });
      }, this.options.timeoutMs ?? 2000);
      timer.unref();
    });
    try {
      return await Promise.race([this.compute(account, templateName), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private askedOf(templateName: string): number {
    const template = this.options.templates.template(templateName);
    return template ? countOf(template.summary) : 0;
  }

  private async compute(account: Account, templateName: string): Promise<EffectiveAccess> {
    const template = this.options.templates.template(templateName);
    if (!template) return { asked: 0, unavailable: true };
    const asked = countOf(template.summary);
    try {
      const path = await this.path(account);
      if (!path) return { asked, unavailable: true };
      if (path.exempt) return { asked, allowed: asked, summary: template.summary, exempt: path.exempt };
      const input = summaryInputOf(template);
      const hash = createHash('sha256')
        .update(JSON.stringify([path.levels, input]))
        .digest('hex')
        .slice(0, 32);
      const cached = await this.options.cache.result(account.id, hash);
      if (cached) return cached;
      const started = this.options.clock.now();
      const effective = await evaluateWithScps(await loadIamActionCatalog(), input, path.levels, account.id);
      this.options.logger?.debug(
        { account: account.id, template: templateName, ms: this.options.clock.now() - started },
        'effective access evaluated under SCPs',
      );
      await this.options.cache.setResult(account.id, hash, effective);
      return effective;
    } catch (error) {
      this.options.logger?.warn(
        { err: error, account: account.id, template: templateName },
        'effective access under SCPs not computed; the template summary is shown with a note',
      );
      return { asked, unavailable: true };
    }
  }

  /** The cached path, or a fresh read (then cached); undefined when Organizations failed. */
  private async path(account: Account): Promise<ScpPath | undefined> {
    const { cache, clock } = this.options;
    await cache.track(account.id, clock.now());
    const cached = await cache.path(account.id);
    if (cached) return cached.path;
    try {
      const path = await readScpPath(this.options.organizations, account, this.options.pageSize);
      await cache.setPath(account, path);
      return path;
    } catch (error) {
      this.options.logger?.warn({ err: error, account: account.id }, 'SCPs could not be read');
      return undefined;
    }
  }

  /**
   * Reconcile's step: reads again the SCP path of every account asked about lately, so a changed
   * SCP shows in the next request's summary. A failed read keeps the cached path until its TTL.
   */
  async refresh(): Promise<{ refreshed: number; failed: string[] }> {
    const { cache, clock } = this.options;
    const failed: string[] = [];
    let refreshed = 0;
    for (const accountId of await cache.tracked(clock.now())) {
      const cached = await cache.path(accountId);
      const account: Account = cached?.account ?? { id: accountId, name: accountId, aliases: [], ouPath: [] };
      try {
        await cache.setPath(
          account,
          await readScpPath(this.options.organizations, account, this.options.pageSize),
        );
        refreshed += 1;
      } catch (error) {
        failed.push(accountId);
        this.options.logger?.warn(
          { err: error, account: accountId },
          'SCP refresh failed; the cached path stays',
        );
      }
    }
    return { refreshed, failed };
  }
}
