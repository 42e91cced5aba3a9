import path from 'node:path';
import { parseArgs } from 'node:util';
import { breakGlassIssues } from '../config/break-glass-checks.js';
import { grantBackendIssues, mayUseBackend } from '../config/grant-backends.js';
import { loadConfig } from '../config/load-config.js';
import { onCallTokenIssues } from '../config/on-call-checks.js';
import { ConfigError, formatFileIssue } from '../errors.js';
import { formatDuration } from '../domain/duration.js';
import { formatSummary } from '../templates/access-summary.js';
import { loadIamActionCatalog } from '../templates/iam-action-catalog.js';
import { loadTemplates, summaryInputOf, templatesDirectory } from '../templates/load-templates.js';
import { findPersistencePaths, formatPersistenceWarning } from '../templates/persistence-paths.js';
import type { CliIo } from './io.js';

export const VALIDATE_HELP = `Usage: aws-access-bot validate [--config FILE]

Checks the configuration file and the boundary templates (schema, IAM actions, variables,
AWS size limits) and prints each template's access-level summary. Prints every problem as
"file: path.to.field: message" and exits 1 if there is any.

Warns (on stderr, exit code unchanged) about each persistence path a template may allow, i.e.
a way to keep access after the grant ends: "warning: file: template: allows ACTION (category)",
category one of new credentials, role chaining, resource-policy write, code under another role;
and about a template granted through Identity Center whose maxDuration is below its 1 h minimum
session.

Options:
  --config FILE   config file (default: $AWS_ACCESS_CONFIG or config/aws-access.yaml)
  -h, --help      show this help`;

export async function validateCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    io.out(VALIDATE_HELP);
    return 0;
  }
  const file = values.config ?? io.env.configPath;
  try {
    const loaded = await loadConfig(file);
    io.out(`${file}: ok (${loaded.config.approval.rules.length} approval rules)`);
    const directory = templatesDirectory(loaded);
    const catalog = await loadTemplates(directory);
    io.out(`${directory}: ok (${catalog.templates.length} templates)`);
    const ruleIssues = [
      ...breakGlassIssues(file, loaded.config, catalog.templates),
      ...grantBackendIssues(file, loaded.config, catalog.templates),
    ];
    if (ruleIssues.length) throw new ConfigError(ruleIssues);
    // Validation usually runs where the Secret is not: a missing token is fatal only at start.
    for (const issue of onCallTokenIssues(file, loaded.config, io.env))
      io.err(`warning: ${formatFileIssue(issue)}`);
    const actions = await loadIamActionCatalog();
    for (const t of catalog.templates) {
      const traits = [
        `default ${formatDuration(t.defaultDurationSeconds)}`,
        `max ${formatDuration(t.maxDurationSeconds)}`,
        t.requiresMfa ? 'MFA' : 'no MFA',
        ...(t.breakGlass ? ['break-glass'] : []),
      ];
      io.out('');
      io.out(`${t.name} (${traits.join(', ')}): ${t.description}`);
      for (const line of formatSummary(t.summary)) io.out(line);
      const file = displayPath(t.file);
      for (const finding of findPersistencePaths(actions, summaryInputOf(t)))
        io.err(formatPersistenceWarning(file, t.name, finding));
      // Identity Center sessions last at least an hour; the revoke's session deny ends them.
      if (t.maxDurationSeconds < 3600 && mayUseBackend(loaded.config.aws, 'identity-center', t.name)) {
        io.err(
          `warning: ${file}: ${t.name}: maxDuration ${formatDuration(t.maxDurationSeconds)} is below Identity Center's 1 h session minimum; its permission set's sessions last 1 h and are ended by the session deny at revoke`,
        );
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return 1;
    }
    throw error;
  }
}

/** `templates/dev.yaml` when under the working directory, else the path as loaded. */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
