import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { loadTemplates } from '../../../src/templates/load-templates.js';

const BASE = {
  name: 'sample',
  description: 'A sample template',
  boundary: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['ec2:DescribeInstances', 's3:Get*'], Resource: '*' }],
  },
  inlinePolicy: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: 'arn:${partition}:s3:::b-${account_id}/${requester}/*',
      },
    ],
  },
  defaultDuration: '1h',
  maxDuration: '4h',
};

type Template = Record<string, unknown>;

/** Writes the template (as JSON, which is YAML) and returns the ConfigError lines, or [] if valid. */
async function problems(
  mutate: (t: Template) => void = () => {},
): Promise<{ file: string; lines: string[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'aab-templates-'));
  const file = path.join(dir, 'sample.yaml');
  const template = structuredClone(BASE) as Template;
  mutate(template);
  writeFileSync(file, JSON.stringify(template, null, 2));
  try {
    await loadTemplates(dir);
    return { file, lines: [] };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { file, lines: error.message.split('\n') };
  }
}

const boundaryActions = (t: Template) =>
  (t.boundary as { Statement: Array<{ Action: string[] }> }).Statement[0]!.Action;

describe('template validation names the file and the field', () => {
  it('accepts a valid template', async () => {
    expect((await problems()).lines).toEqual([]);
  });

  it('rejects an unknown action', async () => {
    const { file, lines } = await problems((t) => boundaryActions(t).push('ec2:DescribeInstancez'));
    expect(lines).toEqual([
      `${file}: boundary.Statement[0].Action[2]: unknown action "ec2:DescribeInstancez"`,
    ]);
  });

  it('rejects a misspelt service and suggests the right one', async () => {
    const { file, lines } = await problems((t) => {
      boundaryActions(t)[1] = 's4:GetObject';
    });
    expect(lines).toEqual([
      `${file}: boundary.Statement[0].Action[1]: unknown service "s4" in "s4:GetObject" (did you mean "s3"?)`,
    ]);
  });

  it('rejects a wildcard that matches no action', async () => {
    const { file, lines } = await problems((t) => boundaryActions(t).push('s3:Frobnicate*'));
    expect(lines).toEqual([`${file}: boundary.Statement[0].Action[2]: "s3:Frobnicate*" matches no action`]);
  });

  it('rejects an unknown variable', async () => {
    const { file, lines } = await problems((t) => {
      (t.inlinePolicy as { Statement: Array<{ Resource: string }> }).Statement[0]!.Resource =
        'arn:${partition}:s3:::b-${acount_id}/*';
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: inlinePolicy\\.Statement\\[0\\]\\.Resource: unknown variable \\$\\{acount_id\\}`,
      ),
    );
  });

  it('rejects a per-grant variable in the boundary, which every grant of the account shares', async () => {
    const { file, lines } = await problems((t) => {
      (t.boundary as { Statement: Array<{ Resource: string }> }).Statement[0]!.Resource =
        'arn:aws:s3:::b/${requester}/*';
    });
    expect(lines[0]).toContain(
      `${file}: boundary.Statement[0].Resource: unknown variable \${requester} (the boundary is shared`,
    );
  });

  it('leaves IAM policy variables alone', async () => {
    const { lines } = await problems((t) => {
      (t.inlinePolicy as { Statement: Array<{ Resource: string }> }).Statement[0]!.Resource =
        'arn:aws:s3:::b/${aws:username}/${*}';
    });
    expect(lines).toEqual([]);
  });

  it('rejects an oversize boundary with the AWS limit', async () => {
    const { file, lines } = await problems((t) => {
      const actions = boundaryActions(t);
      for (let i = 0; i < 400; i++) actions.push('ec2:DescribeInstances');
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /: boundary: the boundary \(with the bot guard\) is \d+ characters without whitespace; AWS allows 6144$/,
    );
    expect(lines[0]!.startsWith(`${file}: `)).toBe(true);
  });

  it('rejects an oversize session policy', async () => {
    const { file, lines } = await problems((t) => {
      t.sessionPolicy = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: Array(120).fill('ec2:DescribeInstances'), Resource: '*' }],
      };
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^.*sample\\.yaml: sessionPolicy: the session policy is \\d+ characters without whitespace; AWS allows 2048$`,
      ),
    );
    expect(lines[0]!.startsWith(file)).toBe(true);
  });

  it('rejects a max duration shorter than the default', async () => {
    const { file, lines } = await problems((t) => {
      t.maxDuration = '30m';
    });
    expect(lines).toEqual([`${file}: maxDuration: must not be shorter than defaultDuration`]);
  });

  it('rejects an unknown field, a bad duration and bad policy grammar', async () => {
    const { file, lines } = await problems((t) => {
      t.requiresMFA = true;
      t.defaultDuration = 'an hour';
      (t.boundary as { Statement: Array<Record<string, unknown>> }).Statement.push({
        Effect: 'Deny',
        Action: 's3:GetObject',
        Condition: { StringEqualz: { 'aws:username': 'x' } },
      });
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        `${file}: requiresMFA: unknown field`,
        `${file}: defaultDuration: "an hour" is not a duration; use forms like 30m, 2h, 1h30m or 1d`,
        `${file}: boundary.Statement[1].Resource: needs exactly one of Resource or NotResource`,
        `${file}: boundary.Statement[1].Condition.StringEqualz: unknown condition operator`,
      ]),
    );
  });

  it('rejects an Effect other than Allow or Deny', async () => {
    const { file, lines } = await problems((t) => {
      (t.boundary as { Statement: Array<Record<string, unknown>> }).Statement[0]!.Effect = 'Permit';
    });
    expect(lines).toEqual([expect.stringContaining(`${file}: boundary.Statement[0].Effect: `)]);
  });

  it('rejects two templates with one name', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-templates-'));
    writeFileSync(path.join(dir, 'a.yaml'), JSON.stringify(BASE));
    writeFileSync(path.join(dir, 'b.yaml'), JSON.stringify(BASE));
    await expect(loadTemplates(dir)).rejects.toThrow(
      `${path.join(dir, 'b.yaml')}: name: "sample" is also the name in`,
    );
  });

  it('reports a YAML syntax error with its line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aab-templates-'));
    writeFileSync(path.join(dir, 'broken.yaml'), 'name: x\ndescription: [unclosed\n');
    await expect(loadTemplates(dir)).rejects.toThrow(new RegExp(`broken\\.yaml: line \\d+: `));
  });
});

describe('the shipped templates', () => {
  it('all validate, with the fields the Slack flow shows', async () => {
    const catalog = await loadTemplates('templates');
    expect(
      catalog
        .list()
        .map((t) => t.name)
        .sort(),
    ).toEqual(['admin-breakglass', 'developer', 'readonly', 's3-data-reader']);
    const admin = catalog.get('admin-breakglass')!;
    expect(admin).toMatchObject({ breakGlass: true, requiresMfa: true, maxDurationSeconds: 4 * 3600 });
    expect(catalog.get('readonly')).toMatchObject({
      breakGlass: false,
      defaultDurationSeconds: 3600,
      maxExtensions: 3,
    });
  });
});
