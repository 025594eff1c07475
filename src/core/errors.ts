/** Exit codes of the CLI; see docs/certification.md. */
export const EXIT = {
  certified: 0,
  notCertified: 1,
  usage: 2,
  harness: 3,
  conditional: 4,
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

interface ReadinessErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
}

/** Base of every error the harness raises on purpose. */
export class ReadinessError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  constructor(code: string, message: string, options: ReadinessErrorOptions = {}, exitCode: ExitCode = EXIT.harness) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.exitCode = exitCode;
  }
}

/** A configuration or usage problem: one line per issue, exit 2, nothing started. */
export class ConfigError extends ReadinessError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options: ReadinessErrorOptions = {}) {
    super('CONFIG_INVALID', problems.join('\n'), options, EXIT.usage);
    this.problems = problems;
  }
}

export class StackStartError extends ReadinessError {
  constructor(message: string, options: ReadinessErrorOptions = {}) {
    super('STACK_START', message, options);
  }
}

/**
 * The system under test failed while starting: a service's container exited, or the service never
 * became healthy within its own budget. Not a harness error: certify records it as a `failed` check
 * with the service's evidence (exit code, log tail).
 */
export class ServiceStartError extends StackStartError {
  readonly service: string;
  constructor(service: string, message: string, options: ReadinessErrorOptions = {}) {
    super(message, options);
    this.service = service;
  }
}

/**
 * The system under test failed a step the harness needed (a login, a sign-up, a backup command):
 * not a harness error. `runCheck` records the check `failed` with the system's own evidence.
 */
export class SystemFailureError extends ReadinessError {
  /** The system's own evidence: the request and its answer (status, body excerpt), exit code, log lines. */
  readonly evidence: string;
  constructor(message: string, evidence: string, options: ReadinessErrorOptions = {}) {
    super('SYSTEM_FAILED', message, options, EXIT.notCertified);
    this.evidence = evidence;
  }
}

export class ToolMissingError extends ReadinessError {
  constructor(message: string, options: ReadinessErrorOptions = {}) {
    super('TOOL_MISSING', message, options);
  }
}

export class ToolFailedError extends ReadinessError {
  constructor(message: string, options: ReadinessErrorOptions = {}) {
    super('TOOL_FAILED', message, options);
  }
}

export class InterruptedError extends ReadinessError {
  constructor(message = 'Interrupted') {
    super('INTERRUPTED', message, {}, EXIT.interrupted);
  }
}

/** One line for a thrown value, with the hint when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof ReadinessError) return error.hint ? `${error.message}\n  fix: ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
