/** The on-call policy, pure: who counts as on call, what the auto-approval covers, click and grant checks. */
import { describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import { checkDecision, grantPathFor, type ApprovalRule } from '../../../src/domain/approval-policy.js';
import { checkGrantable, type GrantFacts } from '../../../src/domain/grant-check.js';
import { personKeys, type IdentitySettings } from '../../../src/domain/identity.js';
import {
  onCallAutoApproveCovers,
  onCallStatus,
  type OnCallAnswer,
  type OnCallDirectory,
  type OnCallSchedule,
} from '../../../src/domain/on-call.js';
import type { Account, TemplateInfo } from '../../../src/domain/ports.js';
import { testRule } from '../../support/rules.js';

const PD: OnCallSchedule = { provider: 'pagerduty', schedule: 'P1' };
const OG: OnCallSchedule = { provider: 'opsgenie', schedule: 'Primary' };
const sandbox: Account = { id: '222222222222', name: 'sandbox', aliases: [], ouPath: [] };
const readonly: TemplateInfo = {
  name: 'readonly',
  description: 'read',
  defaultDurationSeconds: 3600,
  maxDurationSeconds: 4 * 3600,
  requiresMfa: false,
  breakGlass: false,
  summary: { services: [], flags: [] },
};
const developer: TemplateInfo = { ...readonly, name: 'developer' };
const admin: TemplateInfo = { ...readonly, name: 'admin-breakglass', breakGlass: true };

const rule: ApprovalRule = testRule({
  name: 'on-call',
  approvers: { users: ['U0NAMED'], groups: [], onCall: [PD, OG] },
  onCallAutoApprove: { schedules: [PD], templates: ['ReadOnly'], accounts: [sandbox.id] },
});

function directory(answers: Record<string, OnCallAnswer>): OnCallDirectory {
  return { onCallNow: async (s) => answers[s.schedule] ?? { ok: true, emails: [] } };
}

describe('who is on call', () => {
  it('matches the Slack profile e-mail case-insensitively and says which schedules could not be read', async () => {
    const dir = directory({
      P1: { ok: true, emails: ['olga@example.com'] },
      Primary: { ok: false, reason: 'Opsgenie answered HTTP 500' },
    });
    expect(await onCallStatus(dir, [PD, OG], ' Olga@Example.com')).toEqual({
      onCall: [PD],
      unavailable: [OG],
    });
    expect(await onCallStatus(dir, [PD], 'sam@example.com')).toEqual({ onCall: [], unavailable: [] });
    // No e-mail on the Slack profile: on call nowhere.
    expect(await onCallStatus(dir, [PD], undefined)).toEqual({ onCall: [], unavailable: [] });
    // No directory at all: every schedule is unavailable.
    expect(await onCallStatus(undefined, [PD], 'olga@example.com')).toEqual({
      onCall: [],
      unavailable: [PD],
    });
  });

  it('the auto-approval covers only its templates on its accounts, never a break-glass template', () => {
    expect(onCallAutoApproveCovers(rule, readonly, sandbox.id)).toBe(true);
    expect(onCallAutoApproveCovers(rule, developer, sandbox.id)).toBe(false);
    expect(onCallAutoApproveCovers(rule, readonly, '111111111111')).toBe(false);
    const withAdmin = {
      ...rule,
      onCallAutoApprove: { ...rule.onCallAutoApprove!, templates: ['admin-breakglass'] },
    };
    expect(onCallAutoApproveCovers(withAdmin, admin, sandbox.id)).toBe(false);
  });

  it('a rule whose only approvers are on-call schedules still takes requests to approval', () => {
    const onlyOnCall = { ...rule, approvers: { users: [], groups: [], onCall: [PD] } };
    expect(grantPathFor(onlyOnCall, readonly, new Set())).toBe('approval');
  });
});

const pending: AccessRequest = {
  id: 'r-1',
  version: 1,
  state: 'pending',
  requesterId: 'U0REQ',
  principalArn: 'arn:aws:iam::999999999999:user/req',
  accountId: sandbox.id,
  accountName: sandbox.name,
  ouPath: [],
  templateName: 'developer',
  durationSeconds: 3600,
  reason: 'INC-1',
  ruleName: 'on-call',
  approvalsRequired: 1,
  approvals: [],
  breakGlass: false,
  autoApproved: false,
  createdAt: 0,
  updatedAt: 0,
  pendingUntil: 1,
  extensions: 0,
};

describe('at the click', () => {
  const check = (clickerId: string, onCall: { onCall: OnCallSchedule[]; unavailable: OnCallSchedule[] }) =>
    checkDecision({
      request: pending,
      rule,
      clickerId,
      clicker: { id: clickerId, email: 'x@example.com' },
      groupMembers: new Map(),
      onCall,
    });

  it('someone on call now on one of the rule’s schedules may decide; someone not on call may not', () => {
    expect(check('U0OLGA', { onCall: [PD], unavailable: [] })).toBeUndefined();
    expect(check('U0SAM', { onCall: [], unavailable: [] })?.code).toBe('not-an-approver');
  });

  it('a schedule that cannot be read admits nobody, and says so', () => {
    const refused = check('U0OLGA', { onCall: [], unavailable: [OG] });
    expect(refused?.code).toBe('on-call-unconfirmed');
    expect(refused?.message).toBe(
      'could not confirm you are on call right now (Opsgenie unavailable); another approver can decide request r-1',
    );
    // A named approver is not affected by the outage.
    expect(check('U0NAMED', { onCall: [], unavailable: [PD, OG] })).toBeUndefined();
  });

  it('the requester on call still never decides their own request', () => {
    expect(check('U0REQ', { onCall: [PD], unavailable: [] })?.code).toBe('self-approval');
  });
});

describe('at grant time', () => {
  const approved: AccessRequest = { ...pending, state: 'approved' };
  const identities: IdentitySettings = {
    map: {},
    byEmail: { enabled: false, principalTemplate: '', identityAccountId: '999999999999' },
  };
  const facts = (patch: Partial<GrantFacts> = {}): GrantFacts => ({
    request: approved,
    signatureValid: true,
    rules: [rule],
    limits: { min: 900, max: 12 * 3600, maxExtensions: 3, maxTotal: 86400 },
    account: sandbox,
    template: developer,
    requester: { id: 'U0REQ', email: 'req@example.com' },
    requesterGroups: new Set(),
    identity: { principalArn: approved.principalArn },
    requesterKeys: personKeys(identities, 'U0REQ', 'req@example.com'),
    approvals: [],
    groupMembers: new Map(),
    ...patch,
  });
  const olga = (onCall: boolean) => ({
    approverId: 'U0OLGA',
    person: { id: 'U0OLGA', email: 'olga@example.com' },
    keys: personKeys(identities, 'U0OLGA', 'olga@example.com'),
    proofValid: true,
    onCall,
  });

  it('an on-call approver’s approval counts only while they are on call', () => {
    const request = { ...approved, approvals: [{ approverId: 'U0OLGA', at: 1 }] };
    expect(checkGrantable(facts({ request, approvals: [olga(true)] }))).toBeUndefined();
    expect(checkGrantable(facts({ request, approvals: [olga(false)] }))?.message).toContain(
      '0 of the approvals come from distinct approvers',
    );
  });

  it('an auto-approved request is granted only while the requester is on call, for a covered template', () => {
    const auto = { ...approved, templateName: 'readonly', autoApproved: true };
    expect(
      checkGrantable(facts({ request: auto, template: readonly, requesterOnCall: true })),
    ).toBeUndefined();
    expect(checkGrantable(facts({ request: auto, template: readonly, requesterOnCall: false }))?.code).toBe(
      'not-allowed-at-grant',
    );
    const notCovered = { ...auto, templateName: 'developer' };
    expect(checkGrantable(facts({ request: notCovered, requesterOnCall: true }))?.code).toBe(
      'not-allowed-at-grant',
    );
  });
});
