/**
 * The escalation paths of the security review (findings 1, 2, 3 and 11), at the level of the
 * pure policy: break-glass as a rule's allowance, one person across Slack accounts, the grant-time
 * re-derivation, and rules that match accounts by id.
 */
import { describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import {
  checkDecision,
  distinctPeople,
  findRule,
  grantPathFor,
  resolveAccountRef,
  type ApprovalRule,
} from '../../../src/domain/approval-policy.js';
import { checkGrantable, type GrantFacts } from '../../../src/domain/grant-check.js';
import { personKeys, resolveIdentity, type IdentitySettings } from '../../../src/domain/identity.js';
import type { Account, TemplateInfo } from '../../../src/domain/ports.js';
import { requestSettings } from '../../../src/request-settings.js';
import { testConfig } from '../../support/services.js';
import { testRule } from '../../support/rules.js';

const prod: Account = { id: '111111111111', name: 'production', aliases: ['prod'], ouPath: [] };
const admin: TemplateInfo = {
  name: 'admin-breakglass',
  description: 'admin',
  defaultDurationSeconds: 3600,
  maxDurationSeconds: 4 * 3600,
  requiresMfa: true,
  breakGlass: true,
  summary: { services: [], flags: [] },
};
const readonly: TemplateInfo = { ...admin, name: 'readonly', breakGlass: false, requiresMfa: false };
const limits = { min: 900, max: 12 * 3600, maxExtensions: 3, maxTotal: 86400 };

const productionRule: ApprovalRule = testRule({
  name: 'production',
  match: { accounts: [prod.id] },
  approvers: { users: [], groups: ['S0PRODAPPR'] },
  approvalsRequired: 2,
});

describe('break-glass is an explicit, group-limited allowance of a rule (finding 1)', () => {
  it('a break-glass template under a rule without an allowance goes to its approvers', () => {
    expect(grantPathFor(productionRule, admin, new Set(['S0ONCALL']))).toBe('approval');
  });

  it('the allowance applies to members of its requester groups only', () => {
    const rule = {
      ...productionRule,
      breakGlass: { templates: [admin.name], requesterGroups: ['S0ONCALL'] },
    };
    expect(grantPathFor(rule, admin, new Set(['S0ONCALL']))).toBe('break-glass');
    expect(grantPathFor(rule, admin, new Set(['S0OTHER']))).toBe('approval');
    expect(grantPathFor(rule, readonly, new Set(['S0ONCALL']))).toBe('approval');
  });

  it('autoApprove never grants a break-glass template; with no approvers it is refused', () => {
    const auto = testRule({ name: 'auto', autoApprove: true });
    expect(grantPathFor(auto, readonly, new Set())).toBe('auto');
    expect(grantPathFor(auto, admin, new Set())).toMatchObject({ code: 'break-glass-not-allowed' });
  });
});

const identities: IdentitySettings = {
  map: {
    U0ALICE: { principal: 'arn:aws:iam::999999999999:user/alice', email: 'alice@corp.example' },
    U0SSO: {
      principal: 'arn:aws:iam::999999999999:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123',
      sessionName: 'sam@corp.example',
    },
  },
  byEmail: {
    enabled: true,
    principalTemplate: 'arn:aws:iam::${identity_account_id}:user/${email}',
    identityAccountId: '999999999999',
  },
};

describe('one person, however many Slack accounts (finding 2)', () => {
  const request = {
    id: 'r-1',
    state: 'pending',
    requesterId: 'U0ALICE',
    principalArn: 'arn:aws:iam::999999999999:user/alice',
    ruleName: 'production',
    approvals: [] as AccessRequest['approvals'],
  } as AccessRequest;
  const members = new Map([['S0PRODAPPR', ['U0ALICE2', 'U0BOB', 'U0BOB2', 'U0CAROL']]]);
  const keys = (id: string, email?: string) => personKeys(identities, id, email);
  const requesterKeys = keys('U0ALICE', 'alice@corp.example');

  it("a second Slack account with the requester's e-mail cannot approve the request", () => {
    const problem = checkDecision({
      request,
      rule: productionRule,
      clickerId: 'U0ALICE2',
      clicker: { id: 'U0ALICE2', email: 'Alice@corp.example' },
      groupMembers: members,
      identities: {
        clicker: keys('U0ALICE2', 'Alice@corp.example'),
        requester: requesterKeys,
        approvers: [],
      },
    });
    expect(problem?.code).toBe('self-approval');
  });

  it('two Slack accounts of one approver count once toward N of M', () => {
    const problem = checkDecision({
      request: { ...request, approvals: [{ approverId: 'U0BOB', at: 1 }] },
      rule: productionRule,
      clickerId: 'U0BOB2',
      clicker: { id: 'U0BOB2', email: 'bob@corp.example' },
      groupMembers: members,
      identities: {
        clicker: keys('U0BOB2', 'bob@corp.example'),
        requester: requesterKeys,
        approvers: [{ id: 'U0BOB', keys: keys('U0BOB', 'bob@corp.example') }],
      },
    });
    expect(problem?.code).toBe('same-person');
    expect(distinctPeople([keys('U0BOB', 'bob@corp.example'), keys('U0BOB2', 'bob@corp.example')])).toBe(1);
    expect(distinctPeople([keys('U0BOB', 'bob@corp.example'), keys('U0CAROL', 'carol@corp.example')])).toBe(
      2,
    );
  });

  it('alice@corp and alice@personal are two people: ${email_local} is no longer filled in', () => {
    const settings = {
      ...identities,
      map: {},
      byEmail: { ...identities.byEmail, principalTemplate: 'arn:aws:iam::999999999999:user/${email_local}' },
    };
    expect(resolveIdentity(settings, 'U0X', 'alice@corp.example')).toBeUndefined();
  });

  it("a shared role is pinned to the person's session name; without one nothing is trusted", () => {
    expect(resolveIdentity(identities, 'U0SSO', undefined)).toEqual({
      principalArn: identities.map.U0SSO!.principal,
      sessionName: 'sam@corp.example',
    });
    const unpinned = {
      ...identities,
      map: { U0SSO: { principal: identities.map.U0SSO!.principal } },
    };
    expect(resolveIdentity(unpinned, 'U0SSO', undefined)).toBeUndefined();
    const ssoByEmail = {
      ...identities,
      byEmail: {
        ...identities.byEmail,
        principalTemplate:
          'arn:aws:iam::${identity_account_id}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123',
      },
    };
    expect(resolveIdentity(ssoByEmail, 'U0NEW', 'new@corp.example')?.sessionName).toBe('new@corp.example');
  });
});

describe('nothing is granted that the config does not allow at grant time (finding 3)', () => {
  const approved: AccessRequest = {
    id: 'r-1',
    version: 3,
    state: 'approved',
    requesterId: 'U0ALICE',
    principalArn: 'arn:aws:iam::999999999999:user/alice',
    accountId: prod.id,
    accountName: prod.name,
    ouPath: [],
    templateName: 'readonly',
    durationSeconds: 3600,
    reason: 'INC-1',
    ruleName: 'production',
    approvalsRequired: 2,
    approvals: [
      { approverId: 'U0BOB', at: 1 },
      { approverId: 'U0CAROL', at: 2 },
    ],
    breakGlass: false,
    autoApproved: false,
    createdAt: 0,
    updatedAt: 0,
    pendingUntil: 1,
    extensions: 0,
  };
  const facts = (patch: Partial<GrantFacts> = {}): GrantFacts => ({
    request: approved,
    signatureValid: true,
    rules: [productionRule],
    limits,
    account: prod,
    template: readonly,
    requester: { id: 'U0ALICE', email: 'alice@corp.example' },
    requesterGroups: new Set(),
    identity: { principalArn: approved.principalArn },
    requesterKeys: personKeys(identities, 'U0ALICE', 'alice@corp.example'),
    approvals: ['U0BOB', 'U0CAROL'].map((id) => ({
      approverId: id,
      person: { id, email: `${id.toLowerCase()}@corp.example` },
      keys: personKeys(identities, id, `${id.toLowerCase()}@corp.example`),
      proofValid: true,
    })),
    groupMembers: new Map([['S0PRODAPPR', ['U0BOB', 'U0CAROL']]]),
    ...patch,
  });

  it('grants a request whose record, rule, principal and approvals all hold now', () => {
    expect(checkGrantable(facts())).toBeUndefined();
  });

  it('refuses a record the bot did not sign', () => {
    expect(checkGrantable(facts({ signatureValid: false }))?.message).toContain('not one the bot wrote');
  });

  it('refuses an approval without the bot’s proof (written straight into Redis)', () => {
    const [bob, carol] = facts().approvals;
    expect(checkGrantable(facts({ approvals: [bob!, { ...carol!, proofValid: false }] }))?.message).toContain(
      'U0CAROL is not one the bot recorded',
    );
  });

  it('refuses when fewer distinct eligible approvers than the rule needs remain', () => {
    // Carol left the approver group since she clicked.
    expect(checkGrantable(facts({ groupMembers: new Map([['S0PRODAPPR', ['U0BOB']]]) }))?.message).toContain(
      '1 of the approvals come from distinct approvers',
    );
  });

  it('refuses an unconfigured account, a principal the identity map no longer gives, a longer duration', () => {
    expect(checkGrantable(facts({ account: undefined }))?.code).toBe('not-allowed-at-grant');
    expect(
      checkGrantable(facts({ identity: { principalArn: 'arn:aws:iam::222233334444:user/mallory' } }))
        ?.message,
    ).toContain('no longer mapped');
    const longer = { ...approved, durationSeconds: 24 * 3600 };
    expect(checkGrantable(facts({ request: longer }))?.message).toContain(
      'no longer allows a grant of this length',
    );
  });

  it('refuses break-glass when the requester is no longer in the allowance’s groups', () => {
    const rule = {
      ...productionRule,
      breakGlass: { templates: [admin.name], requesterGroups: ['S0ONCALL'] },
    };
    const breakGlass = { ...approved, templateName: admin.name, breakGlass: true, approvals: [] };
    const base = { request: breakGlass, template: admin, rules: [rule], approvals: [] };
    expect(checkGrantable(facts({ ...base, requesterGroups: new Set(['S0ONCALL']) }))).toBeUndefined();
    expect(checkGrantable(facts({ ...base, requesterGroups: new Set() }))?.message).toContain('break-glass');
  });
});

describe('rules match accounts by id (finding 11)', () => {
  it('an Organizations account renamed to a rule’s account name does not fall under that rule', () => {
    const loaded = testConfig((c) => {
      c.approval.rules.unshift(testRule({ name: 'strict-prod', match: { accounts: ['production'] } }));
    });
    const settings = requestSettings(loaded.config);
    const impostor: Account = { id: '333333333333', name: 'production', aliases: [], ouPath: [] };
    const ctx = { templateName: 'readonly', requesterGroups: new Set<string>() };
    expect(findRule(settings.rules, { ...ctx, account: impostor })?.name).not.toBe('strict-prod');
    expect(findRule(settings.rules, { ...ctx, account: prod })?.name).toBe('strict-prod');
  });

  it('a name resolves to an id only through the configured accounts, and only when unambiguous', () => {
    const accounts = [
      { id: '111111111111', name: 'production', aliases: ['prod'] },
      { id: '444444444444', name: 'shared', aliases: [] },
      { id: '555555555555', name: 'other', aliases: ['shared'] },
    ];
    expect(resolveAccountRef('PROD', accounts)).toBe('111111111111');
    expect(resolveAccountRef('222222222222', accounts)).toBe('222222222222');
    expect(resolveAccountRef('shared', accounts)).toBeUndefined();
    expect(resolveAccountRef('staging', accounts)).toBeUndefined();
  });
});
