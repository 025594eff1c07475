import { describe, expect, it } from 'vitest';
import { describeFault, isToxic, toToxic, unseededDraws, validateFault } from './catalog.ts';
import type { Fault } from './catalog.ts';

describe('fault catalog', () => {
  it('turns each toxic fault into the Toxiproxy toxic it names, with stream and toxicity', () => {
    const cases: [Fault, string, Record<string, number>][] = [
      [{ kind: 'latency', link: 'db', latencyMs: 500, jitterMs: 50 }, 'latency', { latency: 500, jitter: 50 }],
      [{ kind: 'timeout', link: 'db', timeoutMs: 0 }, 'timeout', { timeout: 0 }],
      [{ kind: 'reset_peer', link: 'db' }, 'reset_peer', { timeout: 0 }],
      [{ kind: 'bandwidth', link: 'db', rateKBps: 8 }, 'bandwidth', { rate: 8 }],
      [
        { kind: 'slicer', link: 'db', averageSizeBytes: 16 },
        'slicer',
        { average_size: 16, size_variation: 0, delay: 0 },
      ],
      [{ kind: 'limit_data', link: 'db', bytes: 100 }, 'limit_data', { bytes: 100 }],
      [{ kind: 'slow_close', link: 'db', delayMs: 200 }, 'slow_close', { delay: 200 }],
    ];
    for (const [fault, type, attributes] of cases) {
      if (!isToxic(fault)) throw new Error(`${fault.kind} should be a toxic`);
      expect(toToxic(fault, 't')).toEqual({ name: 't', type, stream: 'downstream', toxicity: 1, attributes });
    }
    expect(toToxic({ kind: 'reset_peer', link: 'p', stream: 'upstream', toxicity: 0.3 }, 'x')).toMatchObject({
      stream: 'upstream',
      toxicity: 0.3,
    });
  });

  it('keeps down, container and signal faults out of Toxiproxy toxics', () => {
    expect(isToxic({ kind: 'down', link: 'db' })).toBe(false);
    expect(isToxic({ kind: 'container', action: 'pause', service: 'orders' })).toBe(false);
    expect(isToxic({ kind: 'signal', service: 'db', process: 'postgres: checkpointer', signal: 'KILL' })).toBe(false);
  });

  it('rejects impossible numbers, one line each', () => {
    expect(validateFault({ kind: 'latency', link: 'db', latencyMs: 0, toxicity: 1.5 })).toEqual([
      'toxicity must be in (0, 1] (received 1.5)',
      'latencyMs must be > 0',
    ]);
    expect(validateFault({ kind: 'limit_data', link: 'db', bytes: -1 })).toEqual(['bytes must be >= 0 (received -1)']);
    expect(validateFault({ kind: 'down', link: 'db' })).toEqual([]);
  });

  it('describes faults for reports', () => {
    expect(describeFault({ kind: 'latency', link: 'postgres', latencyMs: 500, jitterMs: 50 })).toBe(
      'latency 500ms ±50ms on postgres (downstream, toxicity 1)',
    );
    expect(describeFault({ kind: 'container', action: 'kill', service: 'orders' })).toBe('container kill of orders');
  });

  it('names what Toxiproxy draws without the run seed', () => {
    expect(unseededDraws({ kind: 'reset_peer', link: 'p', toxicity: 0.3 })).toEqual([
      'which connections the toxic affects (toxicity 0.3, drawn per connection)',
    ]);
    expect(unseededDraws({ kind: 'latency', link: 'db', latencyMs: 500, jitterMs: 50 })).toEqual([
      'each delay within the ±50ms jitter',
    ]);
    expect(unseededDraws({ kind: 'latency', link: 'db', latencyMs: 500 })).toEqual([]);
    expect(unseededDraws({ kind: 'container', action: 'restart', service: 'postgres' })).toEqual([]);
  });
});
