/**
 * A stand-in AWS for a fleet of accounts, for the `fleet` bench: a loopback HTTP server that the
 * bot's real adapters reach through the real AWS SDK (AWS_ENDPOINT_URL), speaking the wire
 * protocols of the calls reconcile and the hygiene sweep make:
 *
 * - STS (query): AssumeRole hands out credentials whose access key names the account
 *   (`ASIA<account>SDIN`), so every later call says which account it acts in; GetCallerIdentity.
 * - Organizations (JSON 1.1): ListAccounts, ListRoots, ListOrganizationalUnitsForParent,
 *   ListAccountsForParent, paged with NextToken.
 * - IAM (query): ListRoles, ListRoleTags, GetRole and the removal calls of a role; the credential
 *   report (Generate: STARTED, then COMPLETE; Get: a synthetic CSV of `usersPerAccount` users),
 *   GetAccountAuthorizationDetails (users with tags, 1,000 a page), GetAccountSummary,
 *   GetAccountPasswordPolicy. Anything else answers 400 `InvalidAction` and is counted.
 *
 * Every call takes `latencyMs` (40 ms); an IAM call arriving when its account has already had
 * `ratePerSecond` (10) calls accepted within the last second gets HTTP 400 `Throttling`, as IAM
 * answers (a sliding one-second window: stricter than a token bucket with a burst). STS and Organizations are not throttled here (their real quotas are per caller and far
 * above what one reconcile needs). Calls, throttles and the most calls in flight are counted per
 * account; `GET /__standin/stats` returns them, `POST /__standin/reset-stats` clears them.
 *
 * moto cannot play this: it holds every user in Python objects (1,000 users took 14 s to create)
 * and answers serially without latency or throttling. The stand-in generates the report and the
 * user list from one template per account instead of storing a million users.
 *
 * Runs in its own process (`startAwsStandin` forks this file), so its work does not share the
 * bot's event loop.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

export interface StandinOptions {
  accounts: number;
  usersPerAccount: number;
  /** Roles under /aws-access/ per account that are active grants (`r-<n>-a<k>`). */
  activeRolesPerAccount: number;
  /** Roles under /aws-access/ per account no request accounts for (`r-<n>-o<k>`). */
  orphanRolesPerAccount: number;
  latencyMs: number;
  /** IAM calls accepted per account in any one second before `Throttling`. */
  ratePerSecond: number;
  /** OUs under the root; account i sits in OU i mod ous. */
  ous: number;
}

export const STANDIN_DEFAULTS: StandinOptions = {
  accounts: 1000,
  usersPerAccount: 1000,
  activeRolesPerAccount: 2,
  orphanRolesPerAccount: 1,
  latencyMs: 40,
  ratePerSecond: 10,
  ous: 10,
};

export const BOT_ACCOUNT = '999999999999';
const DAY_MS = 86_400_000;

/** The n-th account of the fleet (n from 0): 12 digits, never the bot's. */
export function fleetAccountId(n: number): string {
  return String(100_000_000_000 + n);
}

export function activeRequestId(n: number, k: number): string {
  return `r-${n}-a${k}`;
}

export function orphanRequestId(n: number, k: number): string {
  return `r-${n}-o${k}`;
}

/**
 * Users of the synthetic population, the same in every account: most are clean (no console
 * password, one key rotated 10 days ago and used yesterday). Every 100th user has an active key
 * unused for 200 days and 400 days old (an `unused-key` and a `key-past-rotation` finding); every
 * 250th (from user 1) has a console password without MFA (`console-without-mfa`).
 */
export function expectedFindings(usersPerAccount: number): { unusedKeys: number; consoleWithoutMfa: number } {
  let unusedKeys = 0;
  let consoleWithoutMfa = 0;
  for (let i = 0; i < usersPerAccount; i++) {
    if (i % 100 === 0) unusedKeys++;
    if (i % 250 === 1) consoleWithoutMfa++;
  }
  return { unusedKeys, consoleWithoutMfa };
}

// ---------------------------------------------------------------------------------------------
// The server (child process)

interface RoleState {
  path: string;
  tags: Array<[string, string]>;
  attached: string[];
  inline: Set<string>;
  created: string;
}

interface AccountState {
  roles: Map<string, RoleState>;
  reportStartedAt?: number;
  reportGeneratedAt?: number;
  /** Arrival times of the IAM calls accepted in the last second. */
  accepted: number[];
  inFlight: number;
}

interface AccountStats {
  calls: number;
  throttled: number;
  maxInFlight: number;
  byAction: Record<string, number>;
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function queryXml(action: string, result: string): string {
  return `<${action}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

function queryError(code: string, message: string): string {
  return `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function serve(options: StandinOptions): Promise<number> {
  const start = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const accounts = new Map<string, AccountState>();
  const stats = new Map<string, AccountStats>();
  const global = { calls: 0, throttled: 0, invalid: 0, byAction: {} as Record<string, number> };
  const indexOf = new Map<string, number>();
  const seed = () => {
    for (let n = 0; n < options.accounts; n++) {
      const id = fleetAccountId(n);
      indexOf.set(id, n);
      const roles = new Map<string, RoleState>();
      const role = (requestId: string, expiresAt: number): [string, RoleState] => [
        `aws-access-${requestId}`,
        {
          path: '/aws-access/',
          tags: [
            ['aws-access:request-id', requestId],
            ['aws-access:requester', 'U0REQUESTER'],
            ['aws-access:template', 'readonly'],
            ['aws-access:expires-at', new Date(expiresAt).toISOString()],
            ['managed-by', 'aws-access-bot'],
          ],
          attached: [],
          inline: new Set(['expiry']),
          created: iso(start - 3_600_000),
        },
      ];
      for (let k = 0; k < options.activeRolesPerAccount; k++)
        roles.set(...role(activeRequestId(n, k), start + 8 * 3_600_000));
      for (let k = 0; k < options.orphanRolesPerAccount; k++)
        roles.set(...role(orphanRequestId(n, k), start + 3_600_000));
      accounts.set(id, { roles, accepted: [], inFlight: 0 });
    }
  };
  seed();

  // One report and one user list, rendered once; only the account id differs between accounts.
  const ACCT = '@@ACCOUNT@@';
  const users = Array.from(
    { length: options.usersPerAccount },
    (_, i) => `user-${String(i).padStart(5, '0')}`,
  );
  const header =
    'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';
  const ago = (days: number) => iso(start - days * DAY_MS);
  const rows = users.map((user, i) => {
    const unused = i % 100 === 0;
    const console = i % 250 === 1;
    return [
      user,
      `arn:aws:iam::${ACCT}:user/${user}`,
      ago(500),
      console ? 'true' : 'false',
      console ? ago(1) : 'N/A',
      console ? ago(30) : 'N/A',
      console ? ago(-60) : 'N/A',
      'false',
      'true',
      unused ? ago(400) : ago(10),
      unused ? ago(200) : ago(1),
      'us-east-1',
      's3',
      'false',
      'N/A',
      'N/A',
      'N/A',
      'N/A',
      'false',
      'N/A',
      'false',
      'N/A',
    ].join(',');
  });
  const rootRow = `<root_account>,arn:aws:iam::${ACCT}:root,${ago(900)},not_supported,${ago(90)},not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`;
  const reportCsv = [header, rootRow, ...rows].join('\n');
  const userXml = (user: string, i: number) =>
    `<member><Path>/</Path><UserName>${user}</UserName><UserId>AIDA${String(i).padStart(16, '0')}</UserId><Arn>arn:aws:iam::${ACCT}:user/${user}</Arn><CreateDate>${ago(500)}</CreateDate><GroupList><member>developers</member></GroupList><AttachedManagedPolicies/><UserPolicyList/><Tags><member><Key>team</Key><Value>team-${i % 17}</Value></member><member><Key>cost-center</Key><Value>cc-${i % 5}</Value></member></Tags></member>`;
  const PAGE = 1000;
  const userPages: string[] = [];
  for (let p = 0; p * PAGE < users.length || p === 0; p++) {
    userPages.push(
      users
        .slice(p * PAGE, (p + 1) * PAGE)
        .map((u, j) => userXml(u, p * PAGE + j))
        .join(''),
    );
  }

  const statsOf = (account: string): AccountStats => {
    let s = stats.get(account);
    if (!s) {
      s = { calls: 0, throttled: 0, maxInFlight: 0, byAction: {} };
      stats.set(account, s);
    }
    return s;
  };

  const accountOf = (req: IncomingMessage): string => {
    const key = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const m = /^ASIA(\d{12})SDIN$/.exec(key);
    return m ? m[1]! : BOT_ACCOUNT;
  };

  /** At most `ratePerSecond` accepted calls in any one-second window; throttled calls do not count. */
  const admit = (state: AccountState, now: number): boolean => {
    const window = state.accepted;
    while (window.length && window[0]! <= now - 1000) window.shift();
    if (window.length >= options.ratePerSecond) return false;
    window.push(now);
    return true;
  };

  type Answer = { status: number; body: string; type?: string };

  const iam = (account: string, state: AccountState, p: URLSearchParams, action: string): Answer => {
    const roleName = p.get('RoleName') ?? '';
    const role = state.roles.get(roleName);
    const noRole = (): Answer => ({
      status: 404,
      body: queryError('NoSuchEntity', `The role with name ${roleName} cannot be found.`),
    });
    const ok = (result = ''): Answer => ({ status: 200, body: queryXml(action, result) });
    const roleXml = (name: string, r: RoleState, withTags: boolean) =>
      `<member><Path>${r.path}</Path><RoleName>${name}</RoleName><RoleId>AROA${name.length}STANDIN</RoleId><Arn>arn:aws:iam::${account}:role${r.path}${name}</Arn><CreateDate>${r.created}</CreateDate><MaxSessionDuration>3600</MaxSessionDuration>${withTags ? `<Tags>${r.tags.map(([k, v]) => `<member><Key>${k}</Key><Value>${xmlEscape(v)}</Value></member>`).join('')}</Tags>` : ''}</member>`;
    switch (action) {
      case 'ListRoles': {
        const prefix = p.get('PathPrefix') ?? '/';
        const all = [...state.roles.entries()].filter(([, r]) => r.path.startsWith(prefix));
        const from = Number(p.get('Marker') ?? 0);
        const max = Number(p.get('MaxItems') ?? 100);
        const page = all.slice(from, from + max);
        const more = from + max < all.length;
        return ok(
          `<IsTruncated>${more}</IsTruncated>${more ? `<Marker>${from + max}</Marker>` : ''}<Roles>${page.map(([n, r]) => roleXml(n, r, false)).join('')}</Roles>`,
        );
      }
      case 'ListRoleTags':
        if (!role) return noRole();
        return ok(
          `<IsTruncated>false</IsTruncated><Tags>${role.tags.map(([k, v]) => `<member><Key>${k}</Key><Value>${xmlEscape(v)}</Value></member>`).join('')}</Tags>`,
        );
      case 'GetRole':
        if (!role) return noRole();
        return ok(
          roleXml(roleName, role, true)
            .replace(/^<member>/, '<Role>')
            .replace(/<\/member>$/, '</Role>'),
        );
      case 'PutRolePermissionsBoundary':
      case 'UpdateAssumeRolePolicy':
      case 'RemoveRoleFromInstanceProfile':
        return role ? ok() : noRole();
      case 'ListAttachedRolePolicies':
        if (!role) return noRole();
        return ok(
          `<IsTruncated>false</IsTruncated><AttachedPolicies>${role.attached.map((a) => `<member><PolicyArn>${a}</PolicyArn><PolicyName>${a.split('/').pop()}</PolicyName></member>`).join('')}</AttachedPolicies>`,
        );
      case 'DetachRolePolicy':
        if (!role) return noRole();
        role.attached = role.attached.filter((a) => a !== p.get('PolicyArn'));
        return ok();
      case 'ListInstanceProfilesForRole':
        return role ? ok('<IsTruncated>false</IsTruncated><InstanceProfiles/>') : noRole();
      case 'ListRolePolicies':
        if (!role) return noRole();
        return ok(
          `<IsTruncated>false</IsTruncated><PolicyNames>${[...role.inline].map((n) => `<member>${n}</member>`).join('')}</PolicyNames>`,
        );
      case 'DeleteRolePolicy':
        if (!role) return noRole();
        role.inline.delete(p.get('PolicyName') ?? '');
        return ok();
      case 'DeleteRole':
        if (!role) return noRole();
        if (role.inline.size || role.attached.length)
          return {
            status: 409,
            body: queryError('DeleteConflict', 'Cannot delete entity, must remove policies first.'),
          };
        state.roles.delete(roleName);
        return ok();
      case 'GenerateCredentialReport': {
        const now = Date.now();
        if (state.reportStartedAt === undefined) {
          state.reportStartedAt = now;
          return ok(
            '<State>STARTED</State><Description>No report exists. Starting a new report generation task</Description>',
          );
        }
        state.reportGeneratedAt ??= now;
        return ok('<State>COMPLETE</State>');
      }
      case 'GetCredentialReport': {
        if (state.reportGeneratedAt === undefined)
          return { status: 410, body: queryError('ReportNotPresent', 'Credential report not present.') };
        const content = Buffer.from(reportCsv.replaceAll(ACCT, account)).toString('base64');
        return ok(
          `<Content>${content}</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>${iso(state.reportGeneratedAt)}</GeneratedTime>`,
        );
      }
      case 'GetAccountAuthorizationDetails': {
        const page = Number(p.get('Marker') ?? 0);
        const more = page + 1 < userPages.length;
        return ok(
          `<UserDetailList>${userPages[page]!.replaceAll(ACCT, account)}</UserDetailList><GroupDetailList/><RoleDetailList/><Policies/><IsTruncated>${more}</IsTruncated>${more ? `<Marker>${page + 1}</Marker>` : ''}`,
        );
      }
      case 'GetAccountSummary':
        return ok(
          `<SummaryMap>${Object.entries({
            AccountMFAEnabled: 1,
            AccountAccessKeysPresent: 0,
            Users: users.length,
            Roles: state.roles.size,
          })
            .map(([k, v]) => `<entry><key>${k}</key><value>${v}</value></entry>`)
            .join('')}</SummaryMap>`,
        );
      case 'GetAccountPasswordPolicy':
        return ok(
          '<PasswordPolicy><MinimumPasswordLength>14</MinimumPasswordLength><RequireSymbols>true</RequireSymbols><RequireNumbers>true</RequireNumbers><RequireUppercaseCharacters>true</RequireUppercaseCharacters><RequireLowercaseCharacters>true</RequireLowercaseCharacters><AllowUsersToChangePassword>true</AllowUsersToChangePassword><ExpirePasswords>true</ExpirePasswords><MaxPasswordAge>90</MaxPasswordAge><PasswordReusePrevention>24</PasswordReusePrevention></PasswordPolicy>',
        );
      default:
        global.invalid++;
        return { status: 400, body: queryError('InvalidAction', `the stand-in does not know ${action}`) };
    }
  };

  const sts = (account: string, p: URLSearchParams, action: string): Answer => {
    if (action === 'AssumeRole') {
      const target = /^arn:aws:iam::(\d{12}):role\//.exec(p.get('RoleArn') ?? '')?.[1];
      if (!target || !accounts.has(target))
        return { status: 403, body: queryError('AccessDenied', 'not a fleet account') };
      return {
        status: 200,
        body: queryXml(
          'AssumeRole',
          `<Credentials><AccessKeyId>ASIA${target}SDIN</AccessKeyId><SecretAccessKey>standin-secret</SecretAccessKey><SessionToken>standin-token</SessionToken><Expiration>${iso(Date.now() + 3_600_000)}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROASTANDIN:aws-access-bot</AssumedRoleId><Arn>arn:aws:sts::${target}:assumed-role/aws-access-broker/aws-access-bot</Arn></AssumedRoleUser>`,
        ),
      };
    }
    if (action === 'GetCallerIdentity') {
      return {
        status: 200,
        body: queryXml(
          'GetCallerIdentity',
          `<UserId>AIDASTANDIN</UserId><Account>${account}</Account><Arn>arn:aws:iam::${account}:user/bot</Arn>`,
        ),
      };
    }
    global.invalid++;
    return { status: 400, body: queryError('InvalidAction', `the stand-in does not know ${action}`) };
  };

  const organizations = (action: string, input: Record<string, unknown>): Answer => {
    const json = (value: unknown): Answer => ({
      status: 200,
      body: JSON.stringify(value),
      type: 'application/x-amz-json-1.1',
    });
    const paged = <T>(items: T[], key: string) => {
      const from = Number(input.NextToken ?? 0);
      const max = Number(input.MaxResults ?? 20);
      const more = from + max < items.length;
      return json({
        [key]: items.slice(from, from + max),
        ...(more ? { NextToken: String(from + max) } : {}),
      });
    };
    const account = (n: number) => ({
      Id: fleetAccountId(n),
      Arn: `arn:aws:organizations::${BOT_ACCOUNT}:account/o-standin/${fleetAccountId(n)}`,
      Email: `aws+${n}@example.com`,
      Name: `fleet-${n}`,
      Status: 'ACTIVE',
    });
    const all = Array.from({ length: options.accounts }, (_, n) => n);
    switch (action) {
      case 'ListAccounts':
        return paged(all.map(account), 'Accounts');
      case 'ListRoots':
        return paged([{ Id: 'r-root', Arn: 'arn:aws:organizations::root/r-root', Name: 'Root' }], 'Roots');
      case 'ListOrganizationalUnitsForParent':
        return paged(
          input.ParentId === 'r-root'
            ? Array.from({ length: options.ous }, (_, k) => ({ Id: `ou-root-${k}`, Name: `ou-${k}` }))
            : [],
          'OrganizationalUnits',
        );
      case 'ListAccountsForParent': {
        const ou = /^ou-root-(\d+)$/.exec(String(input.ParentId))?.[1];
        return paged(
          ou === undefined ? [] : all.filter((n) => n % options.ous === Number(ou)).map(account),
          'Accounts',
        );
      }
      default:
        global.invalid++;
        return {
          status: 400,
          body: JSON.stringify({ __type: 'InvalidAction', message: action }),
          type: 'application/x-amz-json-1.1',
        };
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const send = (a: Answer) => {
        res.writeHead(a.status, { 'content-type': a.type ?? 'text/xml' });
        res.end(a.body);
      };
      if (req.url === '/__standin/stats') {
        const perAccount = [...stats.entries()].map(([account, s]) => ({ account, ...s }));
        return send({
          status: 200,
          type: 'application/json',
          body: JSON.stringify({
            ...global,
            perAccount,
            rolesLeft: Object.fromEntries(
              [...accounts.entries()].map(([id, a]) => [id, [...a.roles.keys()]]),
            ),
          }),
        });
      }
      if (req.url === '/__standin/reseed') {
        // Every account back to its first state: the seeded roles, no credential report.
        seed();
        return send({ status: 200, body: '{}', type: 'application/json' });
      }
      if (req.url === '/__standin/reset-stats') {
        stats.clear();
        Object.assign(global, { calls: 0, throttled: 0, invalid: 0, byAction: {} });
        return send({ status: 200, body: '{}', type: 'application/json' });
      }
      const target = req.headers['x-amz-target'];
      const account = accountOf(req);
      let answer: () => Answer;
      let action: string;
      let throttle = false;
      if (typeof target === 'string') {
        action = target.split('.').pop() ?? '';
        answer = () => organizations(action, body ? (JSON.parse(body) as Record<string, unknown>) : {});
      } else {
        const p = new URLSearchParams(body);
        action = p.get('Action') ?? '';
        const state = accounts.get(account);
        if (state && account !== BOT_ACCOUNT) {
          throttle = !admit(state, Date.now());
          answer = () => iam(account, state, p, action);
        } else {
          answer = () => sts(account, p, action);
        }
      }
      global.calls++;
      global.byAction[action] = (global.byAction[action] ?? 0) + 1;
      const s = statsOf(account);
      s.calls++;
      s.byAction[action] = (s.byAction[action] ?? 0) + 1;
      const state = accounts.get(account);
      if (state) {
        state.inFlight++;
        s.maxInFlight = Math.max(s.maxInFlight, state.inFlight);
      }
      setTimeout(() => {
        if (state) state.inFlight--;
        if (throttle) {
          s.throttled++;
          global.throttled++;
          return send({ status: 400, body: queryError('Throttling', 'Rate exceeded') });
        }
        send(answer());
      }, options.latencyMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

// ---------------------------------------------------------------------------------------------
// The parent side

export interface AwsStandin {
  url: string;
  stats(): Promise<StandinStats>;
  resetStats(): Promise<void>;
  /** Puts every account back as it started (seeded roles, no credential report). */
  reseed(): Promise<void>;
  stop(): Promise<void>;
}

export interface StandinStats {
  calls: number;
  throttled: number;
  invalid: number;
  byAction: Record<string, number>;
  perAccount: Array<{ account: string } & AccountStats>;
  rolesLeft: Record<string, string[]>;
}

/** Forks the stand-in and waits until it listens; `stop()` ends the child. */
export async function startAwsStandin(options: Partial<StandinOptions> = {}): Promise<AwsStandin> {
  const settings = { ...STANDIN_DEFAULTS, ...options };
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve', JSON.stringify(settings)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the AWS stand-in did not start within 30 s')), 30_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve((m as { port: number }).port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the AWS stand-in exited (${code})`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stats: async () => (await (await fetch(`${url}/__standin/stats`)).json()) as StandinStats,
    reseed: async () => {
      await fetch(`${url}/__standin/reseed`, { method: 'POST' });
    },
    resetStats: async () => {
      await fetch(`${url}/__standin/reset-stats`, { method: 'POST' });
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

if (process.argv[2] === '--serve') {
  const settings = JSON.parse(process.argv[3]!) as StandinOptions;
  void serve(settings).then((port) => process.send?.({ port }));
  process.on('disconnect', () => process.exit(0));
}
