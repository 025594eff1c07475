/**
 * A stack of teardowns (Playwright taskRunner style): register a teardown before the setup
 * it undoes; `run()` calls them in reverse, each once, collecting rather than stopping on errors.
 */
export class Teardowns implements AsyncDisposable {
  readonly #steps: { readonly name: string; readonly fn: () => Promise<void> | void }[] = [];
  #running: Promise<readonly Error[]> | undefined;

  add(name: string, fn: () => Promise<void> | void): void {
    this.#steps.push({ name, fn });
  }

  get size(): number {
    return this.#steps.length;
  }

  /** Runs every registered teardown in reverse order; concurrent callers share one run. */
  run(): Promise<readonly Error[]> {
    this.#running ??= (async () => {
      const errors: Error[] = [];
      while (this.#steps.length > 0) {
        const step = this.#steps.pop();
        if (!step) break;
        try {
          await step.fn();
        } catch (error) {
          errors.push(
            new Error(`teardown "${step.name}" failed: ${error instanceof Error ? error.message : String(error)}`, {
              cause: error,
            }),
          );
        }
      }
      this.#running = undefined;
      return errors;
    })();
    return this.#running;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.run();
  }
}
