import { z } from 'zod';

// zod's JIT probe reads `globalThis.navigator`, and VS Code's extension host throws on that read
// (PendingMigrationError), which failed activation. Schemas are small: the interpreter is fast enough.
z.config({ jitless: true });

export { z };
