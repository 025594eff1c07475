import { NOT_APPLICABLE_TAG, NOT_CONFIGURED_TAG, notApplicableReason } from '../core/check-result.ts';
import type { CheckResultInput } from '../core/check-result.ts';

/** The message of a check the config declares not applicable. */
export const notApplicableMessage = (reason: string): string => `Not applicable: ${reason}`;

/** A first line of at most 300 characters, for the observed outcome kept as a parameter. */
const firstLine = (text: string): string => {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
};

/**
 * The check as the config's `notApplicable` leaves it: unchanged unless its id (or a '*' prefix) is listed;
 * then `not-applicable` with the reason as message and the `not-applicable` tag, and whatever it observed
 * (status and message) kept as the `observed` parameter, so nothing is hidden.
 */
export function applyNotApplicable(
  check: Omit<CheckResultInput, 'stage'>,
  notApplicable: Readonly<Record<string, string>>,
): Omit<CheckResultInput, 'stage'> {
  const reason = notApplicableReason(check.id, notApplicable);
  if (reason === undefined) return check;
  if (check.status === 'not-applicable') {
    // A family a stage records "not configured" takes the config's reason, as the checks run through runCheck do.
    if (!check.tags?.includes(NOT_CONFIGURED_TAG) || check.message === notApplicableMessage(reason)) return check;
    return {
      ...check,
      message: notApplicableMessage(reason),
      parameters: { ...check.parameters, observed: `not-applicable: ${firstLine(check.message ?? '')}` },
    };
  }
  const { remediation: _remediation, ...rest } = check;
  const observed = check.message?.trim() ? `${check.status}: ${firstLine(check.message)}` : check.status;
  return {
    ...rest,
    status: 'not-applicable',
    message: notApplicableMessage(reason),
    tags: [...(check.tags ?? []).filter((tag) => tag !== NOT_APPLICABLE_TAG), NOT_APPLICABLE_TAG],
    parameters: { ...check.parameters, observed },
  };
}

/** A check family a stage runs only when its config section is set. */
export interface NotConfiguredFamily {
  /** `<stage>.<family>.not-configured` */
  readonly id: string;
  readonly name: string;
  readonly feature: string;
  /** The dotted config key that would configure the family. */
  readonly key: string;
}

/** Why a family's checks are not applicable: the config key that would configure it is not set. */
export const notConfiguredMessage = (family: Pick<NotConfiguredFamily, 'key'>): string =>
  `Not configured: ${family.key} is not set`;

/**
 * The check recorded for a family the config does not configure: `not-applicable` with `Not configured:
 * <key> is not set`, tag `not-configured`, severity normal, so it is listed as not covered, never silently absent.
 */
export function notConfiguredCheck(
  family: NotConfiguredFamily,
  atMs: number,
  tags: readonly string[] = [],
): Omit<CheckResultInput, 'stage'> {
  return {
    id: family.id,
    name: family.name,
    feature: family.feature,
    severity: 'normal',
    status: 'not-applicable',
    message: notConfiguredMessage(family),
    tags: [...tags, NOT_CONFIGURED_TAG],
    startedAt: atMs,
    finishedAt: atMs,
  };
}
