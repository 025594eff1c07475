// Writes the config reference (docs/config-reference.md) and the JSON Schema for editors
// (docs/config.schema.json) from the zod schema. `npm run docs:config`; a unit test fails when
// either is stale.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CONFIG_JSON_SCHEMA_FILE,
  CONFIG_REFERENCE_FILE,
  configJsonSchema,
  configReferenceRows,
  renderConfigReference,
} from '../src/config/reference.ts';

const root = join(import.meta.dirname, '..');
const schema = configJsonSchema();
await writeFile(join(root, CONFIG_REFERENCE_FILE), renderConfigReference(configReferenceRows(schema)));
await writeFile(join(root, CONFIG_JSON_SCHEMA_FILE), `${JSON.stringify(schema, null, 2)}\n`);
console.log(`wrote ${CONFIG_REFERENCE_FILE} and ${CONFIG_JSON_SCHEMA_FILE}`);
