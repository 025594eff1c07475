import type { z } from 'zod';

/** What a stage's refine function gets: the parsed config (before path resolution) and zod's context. */
export interface RefinementCtx {
  readonly config: {
    readonly services: Readonly<
      Record<
        string,
        { readonly ports: readonly number[]; readonly dependsOn: readonly string[]; readonly health?: unknown }
      >
    >;
    readonly links: readonly { readonly name?: string | undefined; readonly service: string; readonly port: number }[];
    readonly stages: readonly string[];
  };
  readonly ctx: z.RefinementCtx;
}
