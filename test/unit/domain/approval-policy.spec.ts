import { describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import {
  checkDecision,
  checkDraft,
  checkEligibility,
  checkPerson,
  checkTemplateAllowed,
  findRule,
  type ApprovalRule,
} from '../../../src/domain/approval-policy.js';
import { resolvePrincipal } from '../../../src/domain/identity.js';
import type { Account, TemplateInfo } from '../../../src/domain/ports.js';

function rule(partial: Partial<ApprovalRule> & { name: string }): ApprovalRule {
  return {
    match: {},
    approvers: { users: [], groups: [] },
    approvalsRequired: 1,
    reason: { required: false },
    autoApprove: false,
    reminderAfter: 60,
    escalateAfter: 120,
    ttl: 3600,
    extensions: { autoApprove: false },
    ...partial,
  };
}

const prod: Account = {
  id: '111111111111',
  name: 'production',
  aliases: ['prod'],
  ouPath: [
    { id: 'r-root', name: 'Root' },
    { id: 'ou-ab12-workloads', name: 'Workloads' },
    { id: 'ou-ab12-prodstuff', name: 'Prod' },
  ],
};
const sandbox: Account = { id: '222222222222', name: 'sandbox', aliases: ['sbx'], ouPath: [] };

const template: TemplateInfo = {
  name: 'readonly',
  description: 'read',
  defaultDurationSeconds: 3600,
  maxDurationSeconds: 4 * 3600,
  requiresMfa: false,
  breakGlass: false,
  summary: { services: [], flags: [] },
};
const limits = { min: 900, max: 12 * 3600, maxExtensions: 3, maxTotal: 86400 };

describe('choosing the approval rule', () => {
  const rules = [
    rule({ name: 'workloads-admin', match: { ous: ['ou-ab12-workloads'], templates: ['admin'] } }),
    // Rules hold account ids: the config's names and aliases are resolved when settings are built.
    rule({ name: 'prod-oncall', match: { accounts: ['111111111111'], requesterGroups: ['S0ONCALL'] } }),
    rule({ name: 'prod', match: { accounts: ['111111111111'] } }),
    rule({ name: 'sandbox', match: { accounts: ['222222222222'], templates: ['readonly'] } }),
  ];

  it('matches an OU rule for an account in a nested OU', () => {
    expect(findRule(rules, { account: prod, templateName: 'admin', requesterGroups: new Set() })?.name).toBe(
      'workloads-admin',
    );
  });

  it('takes the first matching rule, including by requester group', () => {
    const ctx = { account: prod, templateName: 'readonly' };
    expect(findRule(rules, { ...ctx, requesterGroups: new Set(['S0ONCALL']) })?.name).toBe('prod-oncall');
    expect(findRule(rules, { ...ctx, requesterGroups: new Set() })?.name).toBe('prod');
  });

  it('matches accounts by id and templates case-insensitively', () => {
    expect(
      findRule(rules, { account: sandbox, templateName: 'READONLY', requesterGroups: new Set() })?.name,
    ).toBe('sandbox');
  });

  it('finds no rule when none matches, which means refusal', () => {
    expect(
      findRule(rules, { account: sandbox, templateName: 'admin', requesterGroups: new Set() }),
    ).toBeUndefined();
  });
});

describe('checking a draft request', () => {
  it('caps the duration by the template, the rule and the global maximum', () => {
    const r = rule({ name: 'r', maxDuration: 2 * 3600 });
    expect(checkDraft({ rule: r, template, durationSeconds: 3 * 3600, reason: '', limits })[0]).toMatchObject(
      {
        code: 'duration-too-long',
        field: 'duration',
      },
    );
    expect(
      checkDraft({ rule: rule({ name: 'r' }), template, durationSeconds: 5 * 3600, reason: '', limits })[0]
        ?.code,
    ).toBe('duration-too-long');
    expect(checkDraft({ rule: r, template, durationSeconds: 60, reason: '', limits })[0]?.code).toBe(
      'duration-too-short',
    );
    expect(checkDraft({ rule: r, template, durationSeconds: 3600, reason: '', limits })).toEqual([]);
  });

  it('requires a reason and checks its pattern, with the hint as the message', () => {
    const r = rule({
      name: 'r',
      reason: { required: true, pattern: '^INC-\\d+', hint: 'start with INC-<number>' },
    });
    expect(checkDraft({ rule: r, template, durationSeconds: 3600, reason: '  ', limits })[0]).toMatchObject({
      code: 'reason-required',
      field: 'reason',
    });
    expect(
      checkDraft({ rule: r, template, durationSeconds: 3600, reason: 'because', limits })[0]?.message,
    ).toBe('the reason must start with INC-<number>');
    expect(checkDraft({ rule: r, template, durationSeconds: 3600, reason: 'INC-12 db', limits })).toEqual([]);
  });

  it('refuses a reason longer than the form allows, before its pattern is tried', () => {
    const r = rule({ name: 'r', reason: { required: true, pattern: '^INC-\\d+' } });
    const long = `INC-1 ${'x'.repeat(600)}`;
    expect(checkDraft({ rule: r, template, durationSeconds: 3600, reason: long, limits })).toEqual([
      expect.objectContaining({ code: 'reason-too-long', field: 'reason' }),
    ]);
    const fits = `INC-1 ${'x'.repeat(494)}`;
    expect(checkDraft({ rule: r, template, durationSeconds: 3600, reason: fits, limits })).toEqual([]);
  });

  it('refuses a duration that is not a whole number of seconds (a tampered form value)', () => {
    const r = rule({ name: 'r' });
    for (const durationSeconds of [1800.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(checkDraft({ rule: r, template, durationSeconds, reason: '', limits })[0]).toMatchObject({
        code: 'duration-invalid',
        field: 'duration',
      });
    }
  });

  it('refuses a template restricted to other accounts or OUs', () => {
    const limited = { ...template, allowedOus: ['ou-ab12-workloads'] };
    expect(checkTemplateAllowed(limited, prod)).toBeUndefined();
    expect(checkTemplateAllowed(limited, sandbox)?.code).toBe('template-not-allowed');
  });
});

describe('who may ask', () => {
  it('refuses deleted, guest and bot users', () => {
    expect(checkPerson({ id: 'U1', deleted: true })?.code).toBe('requester-ineligible');
    expect(checkPerson({ id: 'U1', isRestricted: true })?.message).toContain('guest');
    expect(checkPerson({ id: 'U1', isUltraRestricted: true })?.message).toContain('guest');
    expect(checkPerson({ id: 'U1', isBot: true })?.message).toContain('bots');
    expect(checkPerson(undefined)?.code).toBe('requester-ineligible');
    expect(checkPerson({ id: 'U1' })).toBeUndefined();
  });

  it('limits requesters to the eligibility groups when they are configured', () => {
    expect(checkEligibility([], new Set())).toBeUndefined();
    expect(checkEligibility(['S0ENG'], new Set(['S0ENG']))).toBeUndefined();
    expect(checkEligibility(['S0ENG'], new Set(['S0OTHER']))?.code).toBe('requester-not-in-group');
  });

  it('maps a Slack user to an AWS principal by the identity map, then by e-mail', () => {
    const settings = {
      map: { U0ALICE: { principal: 'arn:aws:iam::999999999999:user/alice' } },
      byEmail: {
        enabled: true,
        principalTemplate: 'arn:aws:iam::${identity_account_id}:user/${email}',
        identityAccountId: '999999999999',
      },
    };
    expect(resolvePrincipal(settings, 'U0ALICE', undefined)).toBe('arn:aws:iam::999999999999:user/alice');
    expect(resolvePrincipal(settings, 'U0BOB', 'bob@example.com')).toBe(
      'arn:aws:iam::999999999999:user/bob@example.com',
    );
    expect(resolvePrincipal(settings, 'U0BOB', 'not-an-email')).toBeUndefined();
    expect(
      resolvePrincipal(
        { ...settings, byEmail: { ...settings.byEmail, enabled: false } },
        'U0BOB',
        'bob@example.com',
      ),
    ).toBeUndefined();
    expect(
      resolvePrincipal(
        { ...settings, byEmail: { ...settings.byEmail, identityAccountId: undefined } },
        'U0BOB',
        'bob@example.com',
      ),
    ).toBeUndefined();
  });
});

describe('deciding at click time', () => {
  const request = {
    id: 'r-1',
    state: 'pending',
    requesterId: 'U0REQ',
    ruleName: 'r',
    approvals: [{ approverId: 'U0DONE', at: 1 }],
  } as unknown as AccessRequest;
  const r = rule({ name: 'r', approvers: { users: ['U0USER'], groups: ['S0GRP'] } });
  const members = new Map([['S0GRP', ['U0MEMBER', 'U0DONE', 'U0REQ']]]);
  const check = (clickerId: string, overrides: Partial<Parameters<typeof checkDecision>[0]> = {}) =>
    checkDecision({
      request,
      rule: r,
      clickerId,
      clicker: { id: clickerId },
      groupMembers: members,
      ...overrides,
    })?.code;

  it('accepts approvers named directly or through a group they are in now', () => {
    expect(check('U0USER')).toBeUndefined();
    expect(check('U0MEMBER')).toBeUndefined();
  });

  it('refuses the requester, non-approvers, repeat approvers and decided requests', () => {
    expect(check('U0REQ')).toBe('self-approval');
    expect(check('U0NOBODY')).toBe('not-an-approver');
    expect(check('U0MEMBER', { groupMembers: new Map() })).toBe('not-an-approver');
    expect(check('U0DONE')).toBe('already-approved');
    expect(check('U0USER', { request: { ...request, state: 'denied' } })).toBe('not-pending');
    expect(check('U0USER', { rule: undefined })).toBe('not-an-approver');
    expect(check('U0USER', { clicker: { id: 'U0USER', isRestricted: true } })).toBe('not-an-approver');
  });
});
