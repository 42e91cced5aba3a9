import { describe, expect, it } from 'vitest';
import { canTransition, isFinal, REQUEST_STATES, TRANSITIONS } from '../../../src/domain/access-request.js';

describe('the request lifecycle', () => {
  it('follows pending → approved → active → revoked', () => {
    expect(canTransition('pending', 'approved')).toBe(true);
    expect(canTransition('approved', 'active')).toBe(true);
    expect(canTransition('active', 'revoked')).toBe(true);
  });

  it('lets a pending request be denied, cancelled or expire, and nothing else', () => {
    expect(TRANSITIONS.pending).toEqual(['approved', 'denied', 'cancelled', 'expired-unapproved']);
    expect(canTransition('pending', 'active')).toBe(false);
    expect(canTransition('pending', 'revoked')).toBe(false);
  });

  it('never leaves a final state', () => {
    for (const state of ['revoked', 'denied', 'cancelled', 'expired-unapproved', 'failed'] as const) {
      expect(isFinal(state)).toBe(true);
      for (const to of REQUEST_STATES) expect(canTransition(state, to)).toBe(false);
    }
  });

  it('retries a failed revocation until it succeeds, and an approval that fails to provision is final', () => {
    expect(canTransition('active', 'revoke-failed')).toBe(true);
    expect(canTransition('revoke-failed', 'revoked')).toBe(true);
    expect(canTransition('approved', 'failed')).toBe(true);
    expect(canTransition('approved', 'pending')).toBe(false);
  });

  it('extends an active grant as active → active', () => {
    expect(canTransition('active', 'active')).toBe(true);
  });
});
