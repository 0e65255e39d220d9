/** A workflow that never yields: its first workflow task must run over the worker's deadlock (isolate) timeout. */
export async function spin(): Promise<void> {
  // Busy, not awaiting: only the isolate execution timeout can end this task.
  for (;;) {
    // spin
  }
}
