/** Template metadata as the Slack flow sees it (the TemplateCatalog port), for tests. */
import type { TemplateInfo } from '../../src/domain/ports.js';

const counts = (
  partial: Partial<Record<'List' | 'Read' | 'Write' | 'Permissions management' | 'Tagging', number>>,
) => ({
  List: 0,
  Read: 0,
  Write: 0,
  'Permissions management': 0,
  Tagging: 0,
  ...partial,
});

export const TEST_TEMPLATES: TemplateInfo[] = [
  {
    name: 'readonly',
    description: 'Read-only access to every service',
    defaultDurationSeconds: 3600,
    maxDurationSeconds: 4 * 3600,
    requiresMfa: false,
    breakGlass: false,
    summary: {
      services: [
        { service: 's3', counts: counts({ List: 3, Read: 12 }) },
        { service: 'ec2', counts: counts({ List: 40, Read: 60 }) },
      ],
      flags: [],
    },
  },
  {
    name: 'developer',
    description: 'Deploy and debug application stacks',
    defaultDurationSeconds: 3600,
    maxDurationSeconds: 8 * 3600,
    maxExtensions: 2,
    requiresMfa: true,
    breakGlass: false,
    summary: {
      services: [{ service: 'lambda', counts: counts({ List: 5, Read: 10, Write: 8 }) }],
      flags: ['iam:PassRole'],
    },
  },
  {
    name: 'admin-breakglass',
    description: 'Full administrator for incidents',
    defaultDurationSeconds: 3600,
    maxDurationSeconds: 3600,
    requiresMfa: true,
    breakGlass: true,
    summary: {
      services: [{ service: 'iam', counts: counts({ 'Permissions management': 50, Write: 30 }) }],
      flags: ['Permissions management on iam'],
    },
  },
];
