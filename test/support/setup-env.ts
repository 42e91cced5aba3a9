import { inject } from 'vitest';

// The AWS SDK's default credential chain and endpoint: moto accepts any keys.
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ENDPOINT_URL = inject('awsEndpointUrl');
// Child processes a test starts (grant-worker-process.ts) connect to the same Redis topology.
process.env.TEST_REDIS_TARGET = JSON.stringify(inject('redisTarget'));
delete process.env.AWS_PROFILE;
process.env.AWS_ACCESS_HMAC_KEY ??= 'test-hmac-key-0123456789abcdef-0123456789';
