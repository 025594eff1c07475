// Runs every vitest project; with READINESS_TEST_JSON set (CI), also writes vitest's JSON report there.
import { spawnSync } from 'node:child_process';

const json = process.env['READINESS_TEST_JSON'];
const args = [
  'run',
  ...(json ? ['--reporter=default', '--reporter=json', `--outputFile.json=${json}`] : []),
  ...process.argv.slice(2),
];
const result = spawnSync('vitest', args, { stdio: 'inherit' });
process.exitCode = result.status ?? 1;
