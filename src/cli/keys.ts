import { readFile } from 'node:fs/promises';
import { parseSigningKey, parseVerifyKey } from '../certify/sign.ts';
import type { RunSigning, VerifyKey } from '../certify/sign.ts';
import { ConfigError } from '../core/errors.ts';

/** Environment variables holding the run's private signing key (PEM), or the path of a PEM file. */
const SIGNING_KEY_ENV = 'READINESS_SIGNING_KEY';
const SIGNING_KEY_FILE_ENV = 'READINESS_SIGNING_KEY_FILE';
/** Environment variables holding the pinned public key `readiness verify` checks against, or its path. */
const VERIFY_KEY_ENV = 'READINESS_VERIFY_KEY';
const VERIFY_KEY_FILE_ENV = 'READINESS_VERIFY_KEY_FILE';

type Env = Readonly<Record<string, string | undefined>>;

async function readKeyFile(file: string, source: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      [`${source}: cannot read ${file} (${error instanceof Error ? error.message : String(error)})`],
      {
        cause: error,
      },
    );
  }
}

/** PEM text from `<name>` or the file `<name>_FILE`; undefined when neither is set, a ConfigError when both are. */
async function pemFromEnv(
  env: Env,
  name: string,
  fileName: string,
): Promise<{ pem: string; source: string } | undefined> {
  const inline = env[name] === '' ? undefined : env[name];
  const file = env[fileName] === '' ? undefined : env[fileName];
  if (inline !== undefined && file !== undefined)
    throw new ConfigError([`${name} and ${fileName} are both set; set one of them`]);
  if (inline !== undefined) return { pem: inline, source: name };
  if (file !== undefined) return { pem: await readKeyFile(file, `${fileName}=${file}`), source: `${fileName}=${file}` };
  return undefined;
}

/** The run's signing key from the environment, or unsigned with the reason; a ConfigError (exit 2) for a bad key. */
export async function signingFromEnv(env: Env): Promise<RunSigning> {
  const found = await pemFromEnv(env, SIGNING_KEY_ENV, SIGNING_KEY_FILE_ENV);
  if (found === undefined)
    return {
      kind: 'none',
      reason: `no signing key: set ${SIGNING_KEY_ENV} (PEM) or ${SIGNING_KEY_FILE_ENV} (path) to an ed25519 private key`,
    };
  return { kind: 'key', key: parseSigningKey(found.pem, found.source) };
}

/** The pinned public key: `--key <file>`, else the environment; undefined when none is given. */
export async function verifyKeyFrom(keyFlag: string | undefined, env: Env): Promise<VerifyKey | undefined> {
  if (keyFlag !== undefined) return parseVerifyKey(await readKeyFile(keyFlag, '--key'), `--key ${keyFlag}`);
  const found = await pemFromEnv(env, VERIFY_KEY_ENV, VERIFY_KEY_FILE_ENV);
  return found === undefined ? undefined : parseVerifyKey(found.pem, found.source);
}
