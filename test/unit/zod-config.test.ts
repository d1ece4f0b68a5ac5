import { describe, expect, it } from 'vitest';

describe('schemas in a host that forbids reading navigator', () => {
  it('build and parse without touching globalThis.navigator (VS Code throws PendingMigrationError there)', async () => {
    const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    let reads = 0;
    Object.defineProperty(globalThis, 'navigator', {
      configurable: true,
      get() {
        reads++;
        throw new Error('PendingMigrationError: navigator is now a global in nodejs');
      },
    });
    try {
      const { parseRunnerEvent } = await import('../../src/shared/protocol/runner-protocol');
      const { reportSchema } = await import('../../src/shared/analysis/report');
      expect(parseRunnerEvent('{"type":"notice","level":"info","message":"hi"}').ok).toBe(true);
      expect(reportSchema.safeParse({}).success).toBe(false);
      expect(reads).toBe(0);
    } finally {
      if (had) Object.defineProperty(globalThis, 'navigator', had);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
  });
});
