/**
 * The one module that reads the environment. Everything else receives EnvOptions.
 */
export interface EnvOptions {
  slackBotToken?: string;
  slackSigningSecret?: string;
  /** Socket Mode is used when this is set. */
  slackAppToken?: string;
  /** Slack Web API base URL (tests and proxies), e.g. http://127.0.0.1:4000/api/ */
  slackApiUrl?: string;
  redisUrl: string;
  /** `REDIS_SENTINEL_PASSWORD`: the Sentinels' own password (`redis.sentinel`); none when unset. */
  redisSentinelPassword?: string;
  awsRegion: string;
  /** The AWS SDK's own endpoint override (moto in tests). */
  awsEndpointUrl?: string;
  configPath: string;
  port: number;
  logLevel: string;
  /**
   * `AWS_ACCESS_HMAC_KEY`: the secret (at least 32 characters) that keys the audit chain and signs
   * request records. It never goes to Redis, so someone who can write Redis can neither forge a
   * request the bot would grant nor re-chain an edited audit log. Required by `start`.
   */
  hmacKey?: string;
  /** `PAGERDUTY_API_TOKEN`: a read-only PagerDuty REST API key, for rules naming PagerDuty schedules. */
  pagerdutyApiToken?: string;
  /** `OPSGENIE_API_KEY`: an Opsgenie API integration key, for rules naming Opsgenie schedules. */
  opsgenieApiKey?: string;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function readEnvOptions(env: NodeJS.ProcessEnv = process.env): EnvOptions {
  const port = Number(nonEmpty(env.PORT) ?? '3000');
  return {
    slackBotToken: nonEmpty(env.SLACK_BOT_TOKEN),
    slackSigningSecret: nonEmpty(env.SLACK_SIGNING_SECRET),
    slackAppToken: nonEmpty(env.SLACK_APP_TOKEN),
    slackApiUrl: nonEmpty(env.SLACK_API_URL),
    redisUrl: nonEmpty(env.REDIS_URL) ?? 'redis://127.0.0.1:6379',
    redisSentinelPassword: nonEmpty(env.REDIS_SENTINEL_PASSWORD),
    awsRegion: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    awsEndpointUrl: nonEmpty(env.AWS_ENDPOINT_URL),
    configPath: nonEmpty(env.AWS_ACCESS_CONFIG) ?? 'config/aws-access.yaml',
    port: Number.isInteger(port) && port >= 0 ? port : 3000,
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    hmacKey: nonEmpty(env.AWS_ACCESS_HMAC_KEY),
    pagerdutyApiToken: nonEmpty(env.PAGERDUTY_API_TOKEN),
    opsgenieApiKey: nonEmpty(env.OPSGENIE_API_KEY),
  };
}
