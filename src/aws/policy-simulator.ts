/**
 * The posture review's {@link PolicySimulator}: @cloud-copilot/iam-simulate, the evaluator the
 * template tests already trust, run in process (no IAM calls, so the review's IAM cost stays one
 * GetAccountAuthorizationDetails per 1,000 entities). Identity policies and the boundary only:
 * no SCPs, RCPs, resource policies or request context.
 *
 * Conditions on what the review cannot know (MFA, source IP, time, tags) are read as met: the
 * simulation runs in Discovery mode, which ignores them, with only the principal keys it sets
 * below held authoritative. A principal whose admin rights need MFA, or who is denied only
 * without MFA, is admin-equivalent with MFA, so it is reported (Strict mode answered "denied"
 * for such conditions, a silent false negative).
 *
 * A document the simulator cannot parse (IAM accepted it, the simulator did not) answers "not
 * allowed" and is logged once per question: a false negative in one principal, never a crash of
 * the account's sweep.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { PolicySimulator, SimulationQuestion } from '../domain/posture/types.js';

export interface SimulatorLog {
  warn(fields: object, message: string): void;
}

function accountOf(arn: string): string {
  return arn.split(':')[4] || '000000000000';
}

/** What IAM knows about every caller: so `${aws:username}` and principal conditions resolve. */
function principalContext(arn: string): Record<string, string> {
  const context: Record<string, string> = { 'aws:PrincipalArn': arn, 'aws:PrincipalAccount': accountOf(arn) };
  const user = /:user\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1];
  if (user) context['aws:username'] = user;
  return context;
}

/** The context keys {@link principalContext} sets: their presence and value are authoritative. */
const KNOWN_KEYS = ['aws:PrincipalArn', 'aws:PrincipalAccount', 'aws:username'].map((keyName) => ({
  keyName,
  presenceIsKnown: true as const,
  valueIsKnown: true as const,
}));

export function iamPolicySimulator(log?: SimulatorLog): PolicySimulator {
  return {
    async allows(q: SimulationQuestion): Promise<boolean> {
      const simulation: Simulation = {
        request: {
          principal: q.principalArn,
          action: q.action,
          resource: { resource: q.resource, accountId: accountOf(q.principalArn) },
          contextVariables: principalContext(q.principalArn),
        },
        identityPolicies: q.identityPolicies.map((policy, i) => ({ name: `identity-${i}`, policy })),
        permissionBoundaryPolicies:
          q.boundary === undefined ? undefined : [{ name: 'boundary', policy: q.boundary }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      };
      const result = await runSimulation(simulation, {
        simulationMode: 'Discovery',
        discoveryContextKeyConstraints: KNOWN_KEYS,
      });
      if (result.resultType === 'error') {
        log?.warn(
          { principal: q.principalArn, action: q.action, errors: result.errors },
          'policy simulator refused a document; treated as not allowed',
        );
        return false;
      }
      return result.overallResult === 'Allowed';
    },
  };
}
