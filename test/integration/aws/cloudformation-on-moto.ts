/**
 * CreateStack on moto for the stack test (stacks-on-moto.spec.ts), with the real
 * `@aws-sdk/client-cloudformation`: create, wait for CREATE_COMPLETE, and on failure throw
 * with the stack's status, its reason and its failed events.
 */
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function cloudFormation(endpoint: string, region: string, credentials?: Credentials) {
  return new CloudFormationClient({
    endpoint,
    region,
    ...(credentials ? { credentials } : {}),
    // One attempt: a retried CreateStack after a server error (moto answers 500 for a resource
    // or attribute it cannot build) reports "already exists" and hides the real error.
    maxAttempts: 1,
  });
}

/**
 * CreateStack with CAPABILITY_NAMED_IAM, then DescribeStacks until the stack leaves
 * *_IN_PROGRESS (moto finishes at once; the wait is there for a slower endpoint). Returns the
 * outputs of a CREATE_COMPLETE stack; anything else throws with the failed events.
 */
export async function deployStack(
  client: CloudFormationClient,
  input: { StackName: string; TemplateBody: string; Parameters: Record<string, string> },
  timeoutMs = 20_000,
): Promise<Record<string, string>> {
  const { StackName } = input;
  try {
    await client.send(
      new CreateStackCommand({
        StackName,
        TemplateBody: input.TemplateBody,
        Capabilities: ['CAPABILITY_NAMED_IAM'],
        Parameters: Object.entries(input.Parameters).map(([ParameterKey, ParameterValue]) => ({
          ParameterKey,
          ParameterValue,
        })),
      }),
    );
  } catch (error) {
    // moto builds the resources inside CreateStack and answers a bare 500 when one fails; its
    // events (when the stack got that far) name the resource.
    const events = await failedEvents(client, StackName).catch(() => []);
    throw new Error(
      [
        `CreateStack ${StackName} failed: ${(error as Error).message}`,
        ...events,
        '(moto answers 500 for a resource or intrinsic it cannot build: run moto_server yourself, set AWS_ENDPOINT_URL to it and read its traceback)',
      ].join('\n'),
      { cause: error },
    );
  }
  const deadline = performance.now() + timeoutMs;
  const describe = async () => {
    const stack = (await client.send(new DescribeStacksCommand({ StackName }))).Stacks?.[0];
    if (!stack?.StackStatus) throw new Error(`stack ${StackName} not found after CreateStack`);
    return stack;
  };
  let stack = await describe();
  while (stack.StackStatus!.endsWith('_IN_PROGRESS') && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    stack = await describe();
  }
  if (stack.StackStatus === 'CREATE_COMPLETE') {
    return Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
  }
  const failed = await failedEvents(client, StackName);
  const reason = stack.StackStatusReason ? ` (${stack.StackStatusReason})` : '';
  throw new Error([`stack ${StackName} is ${stack.StackStatus}${reason}`, ...failed].join('\n'));
}

async function failedEvents(client: CloudFormationClient, StackName: string): Promise<string[]> {
  const events = (await client.send(new DescribeStackEventsCommand({ StackName }))).StackEvents ?? [];
  return events
    .filter((e) => e.ResourceStatus?.endsWith('_FAILED'))
    .map((e) => `  ${e.LogicalResourceId} ${e.ResourceStatus}: ${e.ResourceStatusReason ?? '(no reason)'}`);
}
