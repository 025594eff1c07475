import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import reference from '../../readiness.config.ts';
import {
  CONFIG_JSON_SCHEMA_FILE,
  CONFIG_REFERENCE_FILE,
  configJsonSchema,
  configReferenceRows,
  renderConfigReference,
} from './reference.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const STALE = 'is stale: run `npm run docs:config` and commit the result';

describe('config reference and JSON Schema, generated from the zod schema', () => {
  it(`${CONFIG_REFERENCE_FILE} is current`, async () => {
    expect(await readFile(join(ROOT, CONFIG_REFERENCE_FILE), 'utf8'), `${CONFIG_REFERENCE_FILE} ${STALE}`).toBe(
      renderConfigReference(),
    );
  });

  it(`${CONFIG_JSON_SCHEMA_FILE} is current`, async () => {
    const committed = JSON.parse(await readFile(join(ROOT, CONFIG_JSON_SCHEMA_FILE), 'utf8')) as unknown;
    expect(committed, `${CONFIG_JSON_SCHEMA_FILE} ${STALE}`).toEqual(configJsonSchema());
  });

  it('the JSON Schema accepts the reference config and rejects an unknown key, as the zod schema does', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(configJsonSchema());
    expect(validate(reference), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...reference, bogus: 1 })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({
      keyword: 'additionalProperties',
      params: { additionalProperty: 'bogus' },
    });
  });

  it('lists nested keys, record entries and the variants of a union by their discriminant', () => {
    const keys = configReferenceRows().map((row) => row.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        'services.<name>.build.context',
        'services.<name>.health (kind = "http").path',
        'services.<name>.dependsOn[].until',
        'policy.stages',
      ]),
    );
  });
});
