import { parseConfigText } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

/** The `file: path: message` lines a config text is refused with (fails if it is accepted). */
export function issuesOf(text: string, file = 'bad.yaml'): string[] {
  try {
    parseConfigText(file, text);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected the config to be rejected');
}
