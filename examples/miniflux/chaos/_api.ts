// Probes shared by this folder's experiments (files starting with "_" are helpers, not experiments).
import type { Probe } from '../../../src/index.ts';

/** GET /readiness: miniflux pings Postgres and answers 200, or 503 when the ping fails. */
export const ready = {
  kind: 'http',
  name: 'readiness is 200',
  request: { path: '/readiness' },
  expect: { status: 200, maxLatencyMs: 1_000 },
} as const satisfies Probe;

/** GET /v1/me as the experiment's user (chaos.as): HTTP basic, checked against Postgres on every request. */
export const me = (maxLatencyMs: number) =>
  ({
    kind: 'http',
    name: `GET /v1/me answers 200 within ${maxLatencyMs} ms`,
    request: { path: '/v1/me', auth: true },
    expect: { status: 200, maxLatencyMs },
  }) as const satisfies Probe;
