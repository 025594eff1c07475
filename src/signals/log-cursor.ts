import { open } from 'node:fs/promises';
import { FOLLOW_FAILED_MARK } from '../stack/service-logs.ts';

/**
 * Reads a followed service log (`<logsDir>/<service>.log`, which only grows) a part at a time: each
 * read returns the whole lines written since the previous one, so the signals check of each stage
 * reads what its stage added instead of the whole run's log again. A mark that the follower lost the
 * log is sticky: once seen, every later part starts with it (the gap stays a gap).
 */
export class LogCursor {
  readonly #path: string;
  #offset = 0;
  #lostMark: string | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  /** The whole lines added since the last read (`''` when none), or null when the file does not exist. */
  async readNew(): Promise<string | null> {
    let file;
    try {
      file = await open(this.#path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const { size } = await file.stat();
      const length = Math.max(0, size - this.#offset);
      const buffer = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await file.read(buffer, read, length - read, this.#offset + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      // Only whole lines: a line the follower is still writing is read next time.
      const end = buffer.subarray(0, read).lastIndexOf(0x0a) + 1;
      this.#offset += end;
      const text = buffer.subarray(0, end).toString('utf8');
      this.#lostMark ??= text.split('\n').find((line) => line.startsWith(FOLLOW_FAILED_MARK)) ?? null;
      return this.#lostMark !== null && !text.includes(this.#lostMark) ? `${this.#lostMark}\n${text}` : text;
    } finally {
      await file.close();
    }
  }
}

/** One cursor per log file, kept as long as the object owning them (a run's stack handle) lives. */
export class LogCursors {
  readonly #cursors = new Map<string, LogCursor>();

  /** The cursor of `path`, made on first use. */
  for(path: string): LogCursor {
    let cursor = this.#cursors.get(path);
    if (!cursor) {
      cursor = new LogCursor(path);
      this.#cursors.set(path, cursor);
    }
    return cursor;
  }
}
