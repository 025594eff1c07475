/** ZAP's risk codes 0..3, the scale every scanner's findings are put on. */
export const RISKS = ['info', 'low', 'medium', 'high'] as const;
export type Risk = (typeof RISKS)[number];

/** ZAP's confidence codes 0..4. */
const CONFIDENCES = ['false-positive', 'low', 'medium', 'high', 'confirmed'] as const;
type Confidence = (typeof CONFIDENCES)[number];

type Scanner = 'readiness' | 'schemathesis' | 'zap';

/** One place a finding was seen: a request and what gave it away. */
export interface FindingInstance {
  /** Absolute URL (or URL template) of the request. */
  readonly uri: string;
  readonly method: string;
  readonly param?: string;
  readonly attack?: string;
  readonly evidence?: string;
  readonly otherInfo?: string;
}

/** The one finding model every scanner is normalised to (ZAP's alert shape). */
export interface Finding {
  readonly scanner: Scanner;
  /** The scanner's rule id: ZAP plugin id (`10038`), schemathesis code (`ST101`), readiness check id. */
  readonly ruleId: string;
  readonly name: string;
  readonly risk: Risk;
  readonly confidence: Confidence;
  readonly description?: string;
  readonly solution?: string;
  readonly cweId?: number;
  readonly helpUri?: string;
  readonly instances: readonly FindingInstance[];
}

/** `riskcode` of a ZAP report to a risk; out-of-range codes are an error of the report. */
export function riskFromCode(code: number): Risk {
  const risk = RISKS[code];
  if (risk === undefined) throw new Error(`risk code ${code} is not 0..3`);
  return risk;
}

export function confidenceFromCode(code: number): Confidence {
  const confidence = CONFIDENCES[code];
  if (confidence === undefined) throw new Error(`confidence code ${code} is not 0..4`);
  return confidence;
}
