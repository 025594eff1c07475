import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { VerifyKey } from '../../certify/sign.ts';
import { formatRunVerification, verificationOutcome, verifyRunFolder } from '../../certify/verify-run.ts';
import { ConfigError, EXIT } from '../../core/errors.ts';
import type { ExitCode } from '../../core/errors.ts';

/** `readiness verify` exits 0 when the folder is intact, signed as required and valid; 1 when not; 2 for usage. */
const VERIFY_EXIT = { ok: EXIT.certified, failed: EXIT.notCertified } as const;

interface VerifyOptions {
  /** The run folder (absolute or relative to the working directory). */
  readonly runDir: string;
  /** The pinned public key; the folder must then be signed by it. */
  readonly key?: VerifyKey;
  readonly requireSignature: boolean;
  readonly json: boolean;
  /** The time the certification's validity is judged at. */
  readonly now: Date;
  readonly out: (text: string) => void;
}

/** `readiness verify [run-dir]`: manifest, signature and validity of a run folder; exit 0 only when all hold. */
export async function verify(options: VerifyOptions): Promise<ExitCode> {
  const runDir = resolve(options.runDir);
  const isDir = await stat(runDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new ConfigError([`${options.runDir}: not a run folder (no such directory)`]);
  if (options.requireSignature && options.key === undefined) {
    throw new ConfigError([
      '--require-signature needs a pinned public key: --key <public.pem>, READINESS_VERIFY_KEY or READINESS_VERIFY_KEY_FILE',
    ]);
  }
  const verification = await verifyRunFolder({
    runDir,
    ...(options.key === undefined ? {} : { key: options.key }),
    requireSignature: options.requireSignature,
    now: options.now,
  });
  if (options.json) {
    options.out(JSON.stringify(verification, null, 2));
  } else {
    const shown = relative(process.cwd(), runDir);
    const display = shown === '' ? '.' : shown.startsWith('..') ? runDir : shown;
    options.out(`run ${verification.runId ?? '(no readable certification.json)'} (${display})`);
    for (const line of formatRunVerification(verification)) options.out(line);
    options.out(verificationOutcome(verification));
  }
  return verification.ok ? VERIFY_EXIT.ok : VERIFY_EXIT.failed;
}
