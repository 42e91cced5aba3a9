import { describe, expect, it } from 'vitest';
import type { EffectiveAccess } from '../../../src/domain/effective-access.js';
import { intakeAnswerText } from '../../../src/slack/intake-replies.js';
import { effectiveAccessMrkdwn } from '../../../src/slack/views/effective-access.js';
import { requestMessageBlocks } from '../../../src/slack/views/request-message.js';
import { worstRequest } from './support/worst-case.js';

const counts = (Write: number) => ({ List: 2, Read: 5, Write, 'Permissions management': 0, Tagging: 0 });
const reduced: EffectiveAccess = {
  asked: 20,
  allowed: 12,
  deniedBy: {
    scpName: '<!channel> *deny-writes*',
    kind: 'deny',
    level: 'OU <Workloads>',
    removed: 8,
    services: ['s3'],
    mainLevel: 'Write',
    removesAllOfLevel: true,
  },
  changes: [{ service: 's3', before: counts(13), after: counts(5) }],
};

describe('the effective access on the approval message', () => {
  it('names the SCP, escaped, and lists what it changes per service', () => {
    const text = effectiveAccessMrkdwn(reduced)!;
    expect(text).toContain('12 of the template’s 20 actions');
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('*deny-writes*');
    expect(text).toContain('removes all Write actions on s3');
    expect(text).toContain('• s3: Write 13 → 5');
  });

  it('says when SCPs could not be read, and claims no effective summary', () => {
    const text = effectiveAccessMrkdwn({ asked: 20, unavailable: true })!;
    expect(text).toContain('SCPs could not be read');
    expect(text).not.toContain('After SCPs');
    const blocks = JSON.stringify(
      requestMessageBlocks(worstRequest({ effectiveAccess: { asked: 20, unavailable: true } }), {
        rule: undefined,
        template: undefined,
      }),
    );
    expect(blocks).toContain('SCPs could not be read');
  });

  it('the management account and SCPs leaving everything are said in one line; no snapshot, nothing shown', () => {
    expect(effectiveAccessMrkdwn({ asked: 20, allowed: 20, exempt: 'management-account' })).toContain(
      'do not apply to the management account',
    );
    expect(effectiveAccessMrkdwn({ asked: 20, allowed: 20 })).toContain('leave all 20 actions');
    expect(effectiveAccessMrkdwn(undefined)).toBeUndefined();
    const blocks = requestMessageBlocks(worstRequest({ effectiveAccess: undefined }), {
      rule: undefined,
      template: undefined,
    });
    expect(JSON.stringify(blocks)).not.toContain('effective-access');
  });

  it('the requester’s confirmation carries the same, escaped', () => {
    const text = intakeAnswerText({ kind: 'created', request: worstRequest({ effectiveAccess: reduced }) });
    expect(text).toContain('SCPs leave 12 of the template’s 20 actions');
    expect(text).toContain('&lt;!channel&gt;');
  });
});
