import { connect } from 'node:net';

/** What one connection through a link saw: answered, refused, closed or reset without an answer, or silence. */
export interface LinkObservation {
  readonly outcome: 'answered' | 'refused' | 'closed' | 'reset' | 'no-answer';
  /** From sending the hello to the first byte of answer. */
  readonly firstByteMs?: number;
  /** From sending the hello to `expectBytes` bytes of answer. */
  readonly answerMs?: number;
  /** From sending the hello to the peer closing, when `waitCloseMs` was given and it closed. */
  readonly closeMs?: number;
  readonly bytes: number;
  readonly detail: string;
}

interface LinkProbeOptions {
  readonly expectBytes: number;
  readonly timeoutMs: number;
  /** After the answer, wait this long for the peer to close (slow_close proof). */
  readonly waitCloseMs?: number;
}

/** Opens a TCP connection, sends `hello`, and reports what came back; never throws. */
export function observeLink(
  host: string,
  port: number,
  hello: Buffer,
  options: LinkProbeOptions,
): Promise<LinkObservation> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let sentAt = 0;
    let bytes = 0;
    let firstByteMs: number | undefined;
    let answerMs: number | undefined;
    let settled = false;
    const elapsed = (): number => Math.round((performance.now() - sentAt) * 10) / 10;
    const finish = (observation: Omit<LinkObservation, 'bytes'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        ...observation,
        bytes,
        ...(firstByteMs === undefined ? {} : { firstByteMs }),
        ...(answerMs === undefined ? {} : { answerMs }),
      });
    };
    const timer = setTimeout(() => {
      if (answerMs !== undefined) finish({ outcome: 'answered', detail: `answered ${bytes}B, still open` });
      else finish({ outcome: 'no-answer', detail: `no answer within ${options.timeoutMs}ms (${bytes}B)` });
    }, options.timeoutMs);
    socket.setNoDelay(true);
    socket.once('connect', () => {
      sentAt = performance.now();
      socket.write(hello);
    });
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      firstByteMs ??= elapsed();
      if (answerMs === undefined && bytes >= options.expectBytes) {
        answerMs = elapsed();
        if (options.waitCloseMs === undefined)
          finish({ outcome: 'answered', detail: `answered ${bytes}B in ${answerMs}ms` });
        else {
          clearTimeout(timer);
          setTimeout(
            () =>
              finish({
                outcome: 'answered',
                detail: `answered in ${answerMs}ms, not closed within ${options.waitCloseMs}ms`,
              }),
            options.waitCloseMs,
          );
        }
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') finish({ outcome: 'refused', detail: 'connection refused' });
      else if (answerMs !== undefined)
        finish({ outcome: 'answered', closeMs: elapsed(), detail: `answered, then ${error.code ?? error.message}` });
      else finish({ outcome: 'reset', detail: `${error.code ?? error.message} after ${bytes}B` });
    });
    socket.once('close', () => {
      if (answerMs !== undefined)
        finish({
          outcome: 'answered',
          closeMs: elapsed(),
          detail: `answered in ${answerMs}ms, closed after ${elapsed()}ms`,
        });
      else finish({ outcome: 'closed', detail: `closed without an answer after ${bytes}B` });
    });
  });
}
