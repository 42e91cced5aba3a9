import { describe, expect, it } from 'vitest';
import { DurationSyntaxError, formatDuration, parseDuration } from '../../../src/domain/duration.js';

describe('parseDuration', () => {
  it.each([
    ['30m', 1800],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1d', 86400],
    ['45s', 45],
    ['90', 5400],
    ['1w', 604800],
    [' 2H ', 7200],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'abc', '0m', '-1h', '1.5h', 'h', '1m1h', '0'])(
    'rejects %j with a message that shows the accepted forms',
    (text) => {
      expect(() => parseDuration(text)).toThrow(DurationSyntaxError);
      expect(() => parseDuration(text)).toThrow(/30m, 2h, 1h30m or 1d/);
    },
  );

  it('formats seconds back the way people write them', () => {
    expect(formatDuration(5400)).toBe('1h30m');
    expect(formatDuration(86400 + 60)).toBe('1d1m');
    expect(formatDuration(45)).toBe('45s');
  });
});
