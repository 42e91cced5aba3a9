import { describe, expect, it } from 'vitest';
import { parseCredentialReport } from '../../../src/aws/credential-report.js';
import { evaluateAccount, passwordPolicyWeaknesses } from '../../../src/domain/hygiene/evaluate.js';
import type { AccountCredentialState, HygieneThresholds } from '../../../src/domain/hygiene/types.js';

const HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';
// As real IAM writes it, root row included.
const CSV = [
  HEADER,
  '<root_account>,arn:aws:iam::111111111111:root,2020-01-01T00:00:00+00:00,not_supported,2025-12-01T00:00:00+00:00,not_supported,not_supported,false,true,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
  // key 1 never used, 120 days old; key 2 used yesterday, 100 days old; password used 10 days ago, MFA on
  'alice,arn:aws:iam::111111111111:user/alice,2025-01-01T00:00:00+00:00,true,2026-04-20T00:00:00+00:00,2025-01-01T00:00:00+00:00,N/A,true,true,2026-01-01T00:00:00+00:00,N/A,N/A,N/A,true,2026-01-21T00:00:00+00:00,2026-04-29T00:00:00+00:00,us-east-1,s3,false,N/A,false,N/A',
  // key used 95 days ago, created 95 days ago; inactive key 2; password never used, set 200 days ago, no MFA
  'bob,arn:aws:iam::111111111111:user/bob,2025-10-12T00:00:00+00:00,true,no_information,2025-10-12T00:00:00+00:00,N/A,false,true,2026-01-26T00:00:00+00:00,2026-01-26T00:00:00+00:00,eu-west-1,ec2,false,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A',
  // young key used today; no password
  'carol,arn:aws:iam::111111111111:user/carol,2026-04-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2026-04-01T00:00:00+00:00,2026-04-30T00:00:00+00:00,us-east-1,sts,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
].join('\n');
const NOW = new Date('2026-05-01T00:00:00Z');

const t: HygieneThresholds = {
  unusedKeyDays: 90,
  rotationDays: 90,
  unusedPasswordDays: 90,
  passwordPolicy: {
    minimumLength: 14,
    requireSymbols: true,
    requireNumbers: true,
    requireUppercase: true,
    requireLowercase: true,
    maxAgeDays: 90,
    reusePrevention: 24,
  },
};
const strong = {
  minimumLength: 16,
  requireSymbols: true,
  requireNumbers: true,
  requireUppercase: true,
  requireLowercase: true,
  maxAgeDays: 60,
  reusePrevention: 24,
};

function state(over: Partial<AccountCredentialState> = {}): AccountCredentialState {
  return {
    accountId: '111111111111',
    report: { generatedAt: NOW, rows: parseCredentialReport('111111111111', CSV) },
    root: { accessKeysPresent: false, mfaEnabled: true },
    passwordPolicy: strong,
    userTags: {},
    ...over,
  };
}

describe('parsing the credential report', () => {
  it('reads dates, key slots and the sentinels N/A, no_information and not_supported, leaving out root', () => {
    const rows = parseCredentialReport('111111111111', CSV);
    expect(rows.map((r) => r.userName)).toEqual(['alice', 'bob', 'carol']);
    const bob = rows[1]!;
    expect(bob.passwordEnabled).toBe(true);
    expect(bob.passwordLastUsedAt).toBeUndefined();
    expect(bob.accessKeys).toEqual([
      {
        slot: 1,
        active: true,
        createdAt: new Date('2026-01-26T00:00:00Z'),
        lastUsedAt: new Date('2026-01-26T00:00:00Z'),
        lastUsedService: 'ec2',
      },
      {
        slot: 2,
        active: false,
        createdAt: new Date('2020-01-01T00:00:00Z'),
        lastUsedAt: undefined,
        lastUsedService: undefined,
      },
    ]);
    expect(rows[2]!.accessKeys).toHaveLength(1);
  });

  it('rejects a report without the columns it needs, naming them', () => {
    expect(() => parseCredentialReport('1', 'user,arn\nx,y')).toThrow(/missing columns password_enabled/);
    expect(() => parseCredentialReport('1', 'user,arn\n"x,y')).toThrow(/malformed/);
  });
});

describe('evaluating an account', () => {
  it('flags never-used and long-unused keys, keys past rotation, unused passwords and missing MFA — nothing else', () => {
    const ids = evaluateAccount(state(), t, NOW).map((f) =>
      [f.kind, f.userName, f.key?.slot, f.days].filter((p) => p !== undefined).join(' '),
    );
    expect(ids.sort()).toEqual(
      [
        'unused-key alice 1 120', // never used, 120 days old
        'key-past-rotation alice 1 120',
        'key-past-rotation alice 2 100', // used yesterday, but old
        'unused-key bob 1 95', // last used 95 days ago
        'key-past-rotation bob 1 95',
        'unused-password bob 201', // never used: counted from when it was set
        'console-without-mfa bob',
      ].sort(),
    );
  });

  it('uses `now`: earlier, the same keys are not yet old or unused', () => {
    const early = evaluateAccount(state(), t, new Date('2026-01-27T00:00:00Z'));
    // bob's password was set 107 days before this date; no key is 90 days old yet.
    expect(early.map((f) => f.kind)).toEqual(['unused-password', 'console-without-mfa']);
  });

  it('names a key by account, user, slot and creation time, so a rotated key is a new finding', () => {
    const f = evaluateAccount(state(), t, NOW).find(
      (x) => x.kind === 'unused-key' && x.userName === 'alice',
    )!;
    expect(f.id).toBe('unused-key:111111111111:alice:1:2026-01-01T00:00:00.000Z');
    expect(f.key).toMatchObject({ neverUsed: true, slot: 1 });
  });

  it('reports root keys, root without MFA and a missing or weak password policy', () => {
    const kinds = (s: AccountCredentialState) =>
      evaluateAccount(s, t, new Date('2026-01-27T00:00:00Z')).map((f) => f.kind);
    expect(kinds(state({ root: { accessKeysPresent: true, mfaEnabled: false } }))).toEqual(
      expect.arrayContaining(['root-access-keys', 'root-mfa-off']),
    );
    expect(kinds(state({ passwordPolicy: null }))).toContain('password-policy-missing');
    expect(kinds(state({ passwordPolicy: { ...strong, requireSymbols: false } }))).toContain(
      'password-policy-weak',
    );
    expect(kinds(state())).not.toContain('password-policy-weak');
  });

  it('explains each weakness of a password policy', () => {
    expect(
      passwordPolicyWeaknesses({ minimumLength: 8, maxAgeDays: 0, reusePrevention: 3 }, t.passwordPolicy),
    ).toEqual([
      'minimum length 8 < 14',
      'symbols not required',
      'numbers not required',
      'uppercase not required',
      'lowercase not required',
      'passwords never expire (maximum 90 days)',
      'reuse prevention 3 < 24',
    ]);
  });
});
