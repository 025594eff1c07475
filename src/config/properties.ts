import { z } from 'zod';
import { SEVERITIES } from '../core/check-result.ts';

/** The groups readiness properties fall into, in the order the certificate shows them. */
export const PROPERTY_GROUPS = [
  'availability',
  'resilience',
  'data-safety',
  'security',
  'performance',
  'operability',
] as const;
export type PropertyGroup = (typeof PROPERTY_GROUPS)[number];

/** A check id, or a family: `*` stands for any run of characters (`security.authn.*`, `chaos.*.ledger`). */
export const checkPatternSchema = z
  .string()
  .regex(/^[a-z0-9*][a-z0-9._:*-]*$/, "a check id, or a pattern where '*' stands for any characters");

/** One readiness property: what it claims and the checks that prove it. */
export const propertyDefinitionSchema = z.strictObject({
  title: z.string().trim().min(1),
  group: z.enum(PROPERTY_GROUPS),
  /** The check ids or families that prove it: it is proven when every due one passed and at least one ran. */
  checks: z.array(checkPatternSchema).min(1, 'name at least one check id or family that proves the property'),
  /** `blocker` and `critical` properties head the certificate's risks when not proven. */
  severity: z.enum(SEVERITIES).default('normal'),
  /** What to do when no check covers it (a failed property shows its failed check's remediation). */
  remediation: z.string().trim().min(1).optional(),
});
export type PropertyDefinitionInput = z.input<typeof propertyDefinitionSchema>;
export type PropertyDefinition = z.output<typeof propertyDefinitionSchema>;

const DEFINING_KEYS = ['title', 'group', 'checks', 'severity', 'remediation'] as const;
const REQUIRED_KEYS = ['title', 'group', 'checks'] as const;

/** A `properties` entry: a whole definition (adds, or replaces the built-in of that id), or `omit` with a reason. */
const propertyEntrySchema = z
  .strictObject({
    title: propertyDefinitionSchema.shape.title.optional(),
    group: propertyDefinitionSchema.shape.group.optional(),
    checks: propertyDefinitionSchema.shape.checks.optional(),
    severity: z.enum(SEVERITIES).optional(),
    remediation: propertyDefinitionSchema.shape.remediation,
    /** Leaves the built-in property of this id out of the certificate, with the reason. */
    omit: z.string().trim().min(1).optional(),
  })
  .superRefine((entry, ctx) => {
    const keys = entry.omit === undefined ? REQUIRED_KEYS.filter((k) => entry[k] === undefined) : [];
    for (const key of keys)
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: "is required for a property (or set omit: '<reason>' to leave a built-in one out)",
      });
    if (entry.omit !== undefined)
      for (const key of DEFINING_KEYS.filter((k) => entry[k] !== undefined))
        ctx.addIssue({ code: 'custom', path: [key], message: 'cannot be set with omit' });
  });
export type PropertyEntry = z.output<typeof propertyEntrySchema>;

/**
 * The config's `properties`: by property id, a definition that adds a property or replaces the built-in one
 * of that id, or `{ omit: '<reason>' }` to leave a built-in property out of this stack's certificate.
 */
export const propertiesConfigSchema = z
  .record(
    z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/, 'a lower-case dotted id such as data-safety.retention'),
    propertyEntrySchema,
  )
  .default({});
export type PropertiesConfig = z.output<typeof propertiesConfigSchema>;
