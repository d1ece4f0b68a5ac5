/** Resolves after `ms`, without keeping the process alive meanwhile (unref'd): a wait of the engine's must never hold Node open on its own. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
