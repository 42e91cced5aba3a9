/**
 * The longest inputs the bot can meet: a 500-character reason, names as long as the config or
 * AWS allows, deep OU paths, 20 approver groups and 20 approver users, 10 approvals, hundreds of
 * findings. Texts are built from the characters that grow most when escaped (`&` becomes `&amp;`)
 * and from emoji (surrogate pairs), so clipping is tried at its hardest.
 */
import type { AccessRequest } from '../../../../src/domain/access-request.js';
import type { AuditEvent } from '../../../../src/domain/audit-event.js';
import { MAX_REASON_LENGTH } from '../../../../src/domain/approval-policy.js';
import type { Digest } from '../../../../src/domain/hygiene/digest.js';
import { FINDING_KINDS, type Finding } from '../../../../src/domain/hygiene/types.js';
import type { ApprovalRule } from '../../../../src/domain/policy/rule.js';
import type { Account, Delivery, TemplateInfo } from '../../../../src/domain/ports.js';

/** `n` characters of text that is worst to escape and clip: `&`, `<`, `*`, emoji. */
export function hostile(n: number): string {
  return '&<*😀>_'.repeat(Math.ceil(n / 6)).slice(0, n);
}

const id = (prefix: string, i: number) => `${prefix}${String(i).padStart(10, '0')}`;

/** Config has no limit on these; a long but imaginable value. */
const CONFIG_NAME = 300;
/** AWS: OU names at most 128 characters, OUs nested at most 5 deep; IAM user names 64. */
const OU_NAME = 128;
const OU_DEPTH = 5;
const IAM_USER_NAME = 64;
/** Template names: `^[a-z0-9][a-z0-9-]{0,47}$` (src/templates/boundary-template.ts). */
const TEMPLATE_NAME = `t${'x'.repeat(47)}`;

export const REQUEST_ID = 'r-01J8Z7Q4M6X5W3V2T1S0R9P8N7';

export const worstRule: ApprovalRule = {
  name: hostile(CONFIG_NAME),
  match: {},
  approvers: {
    users: Array.from({ length: 20 }, (_, i) => id('U', i)),
    groups: Array.from({ length: 20 }, (_, i) => id('S', i)),
  },
  approvalsRequired: 10,
  reason: { required: true },
  autoApprove: false,
  channel: 'C0000000001',
  reminderAfter: 3600,
  escalateAfter: 7200,
  ttl: 86_400,
  extensions: { autoApprove: false },
};

export const worstTemplate: TemplateInfo = {
  name: TEMPLATE_NAME,
  description: hostile(1000),
  defaultDurationSeconds: 3600,
  maxDurationSeconds: 43_200,
  requiresMfa: true,
  breakGlass: true,
  summary: {
    services: Array.from({ length: 200 }, (_, i) => ({
      service: `service${i}`,
      counts: { List: 10, Read: 200, Write: 300, 'Permissions management': 40, Tagging: 5 },
    })),
    flags: Array.from({ length: 50 }, (_, i) => `Permissions management on service${i}: ${hostile(100)}`),
  },
};

/** SCP names run to 128 characters; the snapshot keeps 8 changes and 3 notes (snapshotOf). */
const SCP_NAME = 128;
const levels = { List: 99999, Read: 99999, Write: 99999, 'Permissions management': 99999, Tagging: 99999 };
export const worstEffectiveAccess: NonNullable<AccessRequest['effectiveAccess']> = {
  asked: 22_050,
  allowed: 1,
  deniedBy: {
    scpName: hostile(SCP_NAME),
    kind: 'allow-list',
    level: `OU ${hostile(OU_NAME)}`,
    removed: 22_049,
    services: Array.from({ length: 5 }, () => hostile(40)),
    mainLevel: 'Permissions management',
    removesAllOfLevel: true,
  },
  changes: Array.from({ length: 8 }, () => ({
    service: hostile(40),
    before: levels,
    after: { ...levels, Write: 1 },
  })),
  notes: Array.from(
    { length: 3 },
    () => `SCP ${hostile(SCP_NAME)} (OU ${hostile(OU_NAME)}) has 99 Deny statements`,
  ),
};

export function worstRequest(over: Partial<AccessRequest> = {}): AccessRequest {
  const now = 1_700_000_000_000;
  return {
    id: REQUEST_ID,
    version: 7,
    state: 'pending',
    requesterId: 'U0REQUESTER',
    principalArn: 'arn:aws:iam::111111111111:user/someone',
    accountId: '222222222222',
    accountName: hostile(CONFIG_NAME),
    ouPath: Array.from({ length: OU_DEPTH }, (_, i) => ({
      id: `ou-abcd-${i}0000000`,
      name: hostile(OU_NAME),
    })),
    templateName: TEMPLATE_NAME,
    durationSeconds: 43_200,
    reason: hostile(MAX_REASON_LENGTH),
    ruleName: worstRule.name,
    approvalsRequired: 10,
    approvals: Array.from({ length: 9 }, (_, i) => ({ approverId: id('U', i), at: now })),
    breakGlass: false,
    autoApproved: false,
    createdAt: now,
    updatedAt: now,
    pendingUntil: now + 86_400_000,
    decidedBy: 'U0DECIDER00',
    decidedAt: now,
    denyReason: hostile(500),
    expiresAt: now + 43_200_000,
    extensions: 5,
    failure: hostile(1000),
    message: { channel: 'C0000000001', ts: '1700000000.000100' },
    pendingExtension: {
      seconds: 43_200,
      requestedAt: now,
      approvals: Array.from({ length: 9 }, (_, i) => id('U', i)),
      message: { channel: 'C0000000001', ts: '1700000000.000200' },
    },
    reviewedBy: 'U0REVIEWER0',
    reviewedAt: now,
    effectiveAccess: worstEffectiveAccess,
    ...over,
  } as AccessRequest;
}

/** Many requests, each as long as `worstRequest`, with distinct ids. */
export function manyRequests(n: number, over: Partial<AccessRequest> = {}): AccessRequest[] {
  return Array.from({ length: n }, (_, i) => worstRequest({ ...over, id: `${REQUEST_ID}-${i}` }));
}

const ROLE_ARN = `arn:aws:iam::222222222222:role/aws-access/${'p/'.repeat(250)}aws-access-${'x'.repeat(53)}`;

export function worstDelivery(mode: Delivery['mode'], signInUrlLength = 2500): Delivery {
  const expiresAt = new Date(1_700_043_200_000);
  const common = { accountId: '222222222222', roleArn: ROLE_ARN, roleName: 'aws-access-x', expiresAt };
  if (mode === 'assume') {
    return {
      ...common,
      mode,
      switchRoleUrl: `https://signin.aws.amazon.com/switchrole?roleName=${'x'.repeat(64)}&account=222222222222`,
      cliProfile: [
        `[profile aws-access-${'x'.repeat(200)}]`,
        `role_arn = ${ROLE_ARN}`,
        'source_profile = default',
        `role_session_name = ${'s'.repeat(64)}`,
        'duration_seconds = 3600',
      ].join('\n'),
    };
  }
  return {
    ...common,
    mode,
    consoleSignInUrl: `https://signin.aws.amazon.com/federation?Action=login&SigninToken=${'T'.repeat(signInUrlLength)}`,
    envExports: [
      `export AWS_ACCESS_KEY_ID=ASIA${'A'.repeat(16)}`,
      `export AWS_SECRET_ACCESS_KEY=${'s'.repeat(40)}`,
      `export AWS_SESSION_TOKEN=${'t'.repeat(2800)}`,
    ].join('\n'),
    sessionExpiresAt: expiresAt,
  };
}

export function worstAccounts(n: number): Account[] {
  return Array.from({ length: n }, (_, i) => ({
    id: String(100000000000 + i),
    name: hostile(CONFIG_NAME),
    aliases: [hostile(CONFIG_NAME)],
    ouPath: Array.from({ length: OU_DEPTH }, (_, j) => ({
      id: `ou-abcd-${j}0000000`,
      name: hostile(OU_NAME),
    })),
  }));
}

export const accountNames = new Map(
  Array.from({ length: 400 }, (_, i) => [String(100000000000 + i), hostile(CONFIG_NAME)] as const),
);

export function worstFindings(n: number): Finding[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `f-${i}`,
    kind: FINDING_KINDS[i % FINDING_KINDS.length]!,
    accountId: String(100000000000 + (i % 400)),
    userName: hostile(IAM_USER_NAME),
    detail: hostile(400),
    key: {
      slot: 1,
      createdAt: '2020-01-01T00:00:00.000Z',
      lastUsedAt: '2024-01-01T00:00:00.000Z',
      neverUsed: false,
    },
    // IAM tag values are at most 256 characters; the reason quotes one.
    owner:
      i % 2
        ? { kind: 'slack', slackUserId: id('U', i), source: 'tag' }
        : { kind: 'unowned', reason: hostile(400) },
  }));
}

export function worstDigest(): Digest {
  const full = () => Object.fromEntries(FINDING_KINDS.map((k) => [k, 999_999])) as Digest['totals'];
  return {
    week: '2026-W10',
    previousWeek: '2026-W09',
    totals: full(),
    total: 9_999_999,
    accounts: [...accountNames.keys()].map((accountId) => ({
      accountId,
      counts: full(),
      total: 999_999,
      sweptAt: '2026-03-02T00:00:00.000Z',
    })),
    worstOffenders: Array.from({ length: 100 }, (_, i) => ({
      accountId: String(100000000000 + i),
      userName: hostile(IAM_USER_NAME),
      count: 99,
      kinds: [...FINDING_KINDS],
      owner: { kind: 'slack', slackUserId: id('U', i), source: 'tag' },
    })),
    change: full(),
    totalChange: 9_999_999,
  };
}

export function worstAuditEvent(i: number): AuditEvent {
  return {
    at: '2026-03-02T00:00:00.000Z',
    actor: id('U', i),
    action: 'request.extension-denied',
    outcome: 'failed',
    requestId: REQUEST_ID,
    stateBefore: 'revoke-failed',
    stateAfter: 'expired-unapproved',
    reason: hostile(5000),
  };
}
