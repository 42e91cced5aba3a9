/** A schedule an approval rule names: where "on call now" is looked up. */
export const ON_CALL_PROVIDERS = ['pagerduty', 'opsgenie'] as const;
export type OnCallProvider = (typeof ON_CALL_PROVIDERS)[number];

/** A PagerDuty schedule id, or an Opsgenie schedule id (a UUID) or name. */
export interface OnCallSchedule {
  provider: OnCallProvider;
  schedule: string;
}
