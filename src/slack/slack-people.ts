/**
 * PeopleDirectory over the Slack Web API: users.info and usergroups.users.list, looked up live.
 * On the jobs' client a 429 is a RetryLaterError, so the job waits out Retry-After.
 */
import type { WebClient } from '@slack/web-api';
import type { Person } from '../domain/approval-policy.js';
import type { PeopleDirectory } from '../domain/request-ports.js';
import { retryLaterWhenRateLimited } from './slack-client.js';

export class SlackPeople implements PeopleDirectory {
  constructor(private readonly client: WebClient) {}

  async person(userId: string): Promise<Person | undefined> {
    try {
      const res = await retryLaterWhenRateLimited(() => this.client.users.info({ user: userId }));
      const u = res.user;
      if (!u?.id) return undefined;
      return {
        id: u.id,
        name: u.profile?.display_name || u.real_name || u.name,
        email: u.profile?.email,
        ...(u.is_email_confirmed === false ? { emailConfirmed: false } : {}),
        deleted: u.deleted,
        isBot: u.is_bot,
        isRestricted: u.is_restricted,
        isUltraRestricted: u.is_ultra_restricted,
      };
    } catch (error) {
      if ((error as { data?: { error?: string } }).data?.error === 'user_not_found') return undefined;
      throw error;
    }
  }

  async groupMembers(groupId: string): Promise<string[]> {
    const res = await retryLaterWhenRateLimited(() =>
      this.client.usergroups.users.list({ usergroup: groupId }),
    );
    return res.users ?? [];
  }
}
