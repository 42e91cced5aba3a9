import { z } from 'zod';
import { configSchema } from '../src/config/schema.ts';
const s = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7', unrepresentable: 'any' });
console.log(JSON.stringify(s, null, 1).slice(0, 3000));
console.log(JSON.stringify(s).length);
