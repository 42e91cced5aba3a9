import { describe, expect, it } from 'vitest';
import {
  CommandSyntaxError,
  isMultiTarget,
  parseCommand,
  parseTargets,
} from '../../../src/domain/command.js';

describe('the /aws-access command grammar', () => {
  it('opens the modal when there is no text', () => {
    expect(parseCommand('   ')).toEqual({ kind: 'open-modal' });
  });

  it('reads a one-line request with a multi-word reason', () => {
    expect(parseCommand('prod ReadOnly 1h30m INC-42 checking   the alarms')).toEqual({
      kind: 'request',
      account: 'prod',
      targets: ['prod'],
      template: 'readonly',
      durationSeconds: 5400,
      reason: 'INC-42 checking the alarms',
    });
  });

  it('reads the sub-commands', () => {
    expect(parseCommand('help')).toEqual({ kind: 'help' });
    expect(parseCommand('LIST')).toEqual({ kind: 'list' });
    expect(parseCommand('templates')).toEqual({ kind: 'templates' });
    expect(parseCommand('status r-abc123')).toEqual({ kind: 'status', requestId: 'r-abc123' });
    expect(parseCommand('cancel r-abc123')).toEqual({ kind: 'cancel', requestId: 'r-abc123' });
    expect(parseCommand('revoke r-abc123')).toEqual({ kind: 'revoke', requestId: 'r-abc123' });
    expect(parseCommand('extend r-abc123 30m')).toEqual({
      kind: 'extend',
      requestId: 'r-abc123',
      durationSeconds: 1800,
    });
  });

  it.each([
    ['prod', /missing template/],
    ['prod readonly', /missing duration/],
    ['prod readonly forever because', /duration: "forever" is not a duration/],
    ['status', /needs a request id/],
    ['extend r-abc123', /needs a request id and a duration/],
    ['extend r-abc123 soon', /extend: "soon" is not a duration/],
    ['list everything', /takes no arguments/],
    ['revoke <@U123>', /is not a request id/],
  ])('explains what is wrong with %j', (text, problem) => {
    let error: unknown;
    try {
      parseCommand(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CommandSyntaxError);
    expect((error as Error).message).toMatch(problem);
    expect((error as CommandSyntaxError).usage).toContain(
      '/aws-access <account> <template> <duration> <reason',
    );
  });

  describe('several accounts in one request', () => {
    it('reads a comma-separated list of accounts', () => {
      expect(parseCommand('sandbox,staging readonly 2h INC-1 why')).toMatchObject({
        kind: 'request',
        account: 'sandbox,staging',
        targets: ['sandbox', 'staging'],
        template: 'readonly',
        durationSeconds: 7200,
        reason: 'INC-1 why',
      });
    });

    it('reads an OU by name or id, in any case of the prefix', () => {
      expect(parseCommand('ou:Workloads readonly 1h INC-2 why')).toMatchObject({
        account: 'ou:Workloads',
        targets: ['ou:Workloads'],
      });
      expect(parseTargets('OU:ou-ab12-cd34ef56')).toEqual(['ou:ou-ab12-cd34ef56']);
    });

    it('de-duplicates a mix of accounts and OUs, keeping the order given', () => {
      expect(parseTargets('sandbox,ou:Dev,SANDBOX,staging,ou:dev')).toEqual(['sandbox', 'ou:Dev', 'staging']);
    });

    it('tells a list or an OU from a single account', () => {
      expect(isMultiTarget('sandbox')).toBe(false);
      expect(isMultiTarget('sandbox,staging')).toBe(true);
      expect(isMultiTarget('ou:Dev')).toBe(true);
    });

    it.each([
      ['sandbox,,staging readonly 1h why', /empty entry/],
      ['sandbox, readonly 1h why', /empty entry/],
      [',sandbox readonly 1h why', /empty entry/],
      ['ou: readonly 1h why', /`ou:` needs an OU name or id/],
      ['sandbox,ou: readonly 1h why', /`ou:` needs an OU name or id/],
    ])('refuses %j with the usage line', (text, problem) => {
      let error: unknown;
      try {
        parseCommand(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CommandSyntaxError);
      expect((error as Error).message).toMatch(problem);
      expect((error as CommandSyntaxError).usage).toContain('ou:<OU>');
    });
  });
});
