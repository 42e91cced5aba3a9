/**
 * `npm run demo` (tsx demo/run.ts). Environment:
 *   REDIS_URL            use this Redis when it answers (the demo's keys are removed afterwards)
 *   AWS_ENDPOINT_URL     use this moto server instead of starting one
 *   DEMO_GRANT           how long Alice asks for (default 1m)
 *   DEMO_EXPIRY_WARNING  how long before the end she is warned (default 30s)
 *   LOG_LEVEL            the service's log level, written to stderr (default silent)
 *   DEMO_SCENE           `identity-center` (or the flag --identity-center): the Identity Center
 *                        backend instead of the IAM-role walk-through
 * Exits 0 when every step happened, 1 otherwise; it stops everything it started either way.
 */
import { runDemo, useDemoAwsCredentials } from './demo.js';
import { runIdentityCenterDemo } from './identity-center.js';

const env = process.env;
const endpoint = env.AWS_ENDPOINT_URL?.trim() || undefined;
useDemoAwsCredentials(env);

// A second Ctrl-C exits at once; the first lets the demo stop what it started.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping what the demo started (again to exit at once)…\n`);
    process.exitCode = 130;
  });
}

try {
  const identityCenter =
    process.argv.includes('--identity-center') || env.DEMO_SCENE?.trim() === 'identity-center';
  const result = await (identityCenter ? runIdentityCenterDemo : runDemo)({
    out: { write: (text) => process.stdout.write(text) },
    redisUrl: env.REDIS_URL?.trim() || undefined,
    awsEndpointUrl: endpoint,
    grant: env.DEMO_GRANT?.trim() || undefined,
    expiryWarning: env.DEMO_EXPIRY_WARNING?.trim() || undefined,
    logLevel: env.LOG_LEVEL?.trim() || 'silent',
  });
  if (!result.ok) process.exitCode = 1;
  process.exitCode ??= 0;
} catch (error) {
  // Set-up problems (a missing redis-server or moto_server, a bad DEMO_GRANT) in one clear line.
  process.stderr.write(`\nThe demo could not run: ${(error as Error).message}\n`);
  process.exitCode = 1;
}

// Everything is stopped by now, so the process ends by itself. If something still holds it
// open, say what instead of hanging (unref: this timer alone does not keep the process alive).
setTimeout(() => {
  process.stderr.write(`the demo left resources open: ${process.getActiveResourcesInfo().join(', ')}\n`);
  process.exit(1);
}, 10_000).unref();
