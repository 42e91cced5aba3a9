import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamPolicySimulator } from '../../../src/aws/policy-simulator.js';
import { accessRoleExpectations } from '../../../src/aws/posture-expectations.js';
import { awsPostureReader } from '../../../src/aws/posture-reader.js';
import {
  reviewAccountPosture,
  type AccountPostureReview,
  type PostureReviewDeps,
} from '../../../src/domain/posture/review-account.js';
import type { PostureFinding } from '../../../src/domain/posture/types.js';
import { loadTemplates } from '../../../src/templates/load-templates.js';
import { countingAccountClients } from '../hygiene/support.js';
import { awsEndpointUrl, resetMoto } from '../../support/services.js';
import {
  activeRequest,
  ACTIVE_REQUEST_IDS,
  EXPECTED_EXEMPTED,
  EXPECTED_FINDINGS,
  populatePosture,
  POSTURE_ACCOUNT,
  POSTURE_EXEMPTIONS,
} from '../../support/posture-population.js';

const DAY_MS = 86_400_000;
const keys = (list: Array<Pick<PostureFinding, 'kind' | 'arn'>>) =>
  list.map((f) => `${f.kind} ${f.arn}`).sort();

describe('the posture review against moto', () => {
  let review: AccountPostureReview;
  let authDetailsCalls: number;
  let filters: unknown;

  beforeAll(async () => {
    await resetMoto();
    const setup = countingAccountClients();
    await populatePosture(await setup.iam(POSTURE_ACCOUNT), awsEndpointUrl());

    const accounts = countingAccountClients((_account, command, input) => {
      if (command === 'GetAccountAuthorizationDetailsCommand')
        filters = (input as { Filter?: unknown }).Filter;
    });
    const reader = awsPostureReader(accounts);
    // The clock sits between the never-used role's creation and the used roles' last use, one
    // day later: `forgotten` is a day old, `busy` was used less than a day ago.
    const details = await reader.read(POSTURE_ACCOUNT);
    const busy = details.roles.find((r) => r.name === 'busy')!;
    expect(busy.lastUsedAt, 'moto records the role as used').toBeDefined();
    const now = new Date(busy.lastUsedAt!.getTime() + DAY_MS - 500);
    accounts.reset();

    const templates = await loadTemplates('templates');
    const deps: PostureReviewDeps = {
      reader,
      simulator: iamPolicySimulator(),
      accessRoles: async (accountId) =>
        accessRoleExpectations(
          { templates, partition: 'aws', region: 'us-east-1', brokerRoleName: 'aws-access-broker' },
          accountId,
          ACTIVE_REQUEST_IDS.map(activeRequest),
        ),
      slackIdsByEmail: async () => new Map(),
      settings: { unusedRoleDays: 1, trustedAccounts: [], exemptions: POSTURE_EXEMPTIONS },
      identityMap: {},
      now,
    };
    review = await reviewAccountPosture(deps, POSTURE_ACCOUNT);
    authDetailsCalls = accounts.calls.get(POSTURE_ACCOUNT)?.get('GetAccountAuthorizationDetailsCommand') ?? 0;
  }, 120_000);

  afterAll(async () => {
    await resetMoto();
  });

  it('finds one example of every kind and nothing on the clean counter-examples', () => {
    expect(keys(review.findings)).toEqual(EXPECTED_FINDINGS);
  });

  it('silences exempted findings by tag and by ARN pattern, keeping the reason', () => {
    expect(keys(review.exempted.map((e) => e.finding))).toEqual(EXPECTED_EXEMPTED);
    expect(review.exempted.map((e) => e.reason).sort()).toEqual([
      'emergency role',
      'kept for the 2027 audit',
    ]);
  });

  it('reads everything in one GetAccountAuthorizationDetails call with all filters', () => {
    expect(authDetailsCalls).toBe(1);
    expect(filters).toEqual(['User', 'Group', 'Role', 'LocalManagedPolicy', 'AWSManagedPolicy']);
  });

  it('says why in words and names owners from tags', () => {
    const byKey = new Map(review.findings.map((f) => [`${f.kind} ${f.arn.split(':').pop()}`, f]));
    expect(byKey.get('admin-equivalent role/ci-deployer')?.detail).toMatch(
      /iam:PassRole with lambda:CreateFunction/,
    );
    expect(byKey.get('admin-equivalent group/admins')?.detail).toMatch(
      /allows every action on every resource/,
    );
    expect(byKey.get('access-role-drift role/aws-access/aws-access-req-tampered')?.detail).toMatch(
      /managed policies added: arn:aws:iam::111111111111:policy\/FullAdmin/,
    );
    expect(byKey.get('access-role-drift role/aws-access/aws-access-ghost')?.detail).toMatch(
      /no active request/,
    );
    expect(byKey.get('open-trust role/partner-access')?.detail).toMatch(/account 999999999999/);
    expect(byKey.get('user-inline-policy user/inline-carol')?.owner).toEqual({
      kind: 'slack',
      slackUserId: 'U0CAROL',
      source: 'tag',
    });
    expect(byKey.get('unused-policy policy/Leftover')?.owner).toBeUndefined();
  });
});
