// Copies non-TypeScript runtime files (Redis Lua scripts) next to the compiled modules in dist/.
import { cpSync } from 'node:fs';

cpSync('src/store/lua', 'dist/store/lua', { recursive: true });
