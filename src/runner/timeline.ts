/** Timestamped lines of what an experiment or drill did and saw; attached to its checks. */
export class Timeline {
  readonly #lines: string[] = [];
  readonly #start = performance.now();

  log(line: string): void {
    this.#lines.push(`+${String(Math.round(performance.now() - this.#start)).padStart(7)}ms ${line}`);
  }

  text(): string {
    return this.#lines.join('\n');
  }
}
