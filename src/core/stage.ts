/** The readiness stages, in the order a run executes them. */
export const STAGES = ['boot', 'contract', 'security', 'load', 'chaos', 'recovery'] as const;
export type Stage = (typeof STAGES)[number];

export function isStage(value: string): value is Stage {
  return (STAGES as readonly string[]).includes(value);
}

/** Throws at compile time when a switch over a closed set misses a member. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
