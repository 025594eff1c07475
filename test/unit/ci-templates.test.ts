import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const load = async (path: string): Promise<unknown> =>
  parse(await readFile(resolve(ROOT, path), 'utf8'), { strict: true }) as unknown;
const schema = async (name: string): Promise<object> =>
  JSON.parse(await readFile(resolve(ROOT, 'test/fixtures/ci', name), 'utf8')) as object;

function validate(schemaObject: object, document: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const check = ajv.compile(schemaObject);
  return check(document) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string>;
  'continue-on-error'?: boolean;
}

describe('CI templates for users', () => {
  it('the GitHub Actions workflow parses, fits the workflow schema, and gates on the verdict', async () => {
    const workflow = (await load('ci/github/readiness.yml')) as {
      jobs: Record<string, { steps: Step[] }>;
      permissions: Record<string, string>;
    };
    expect(validate(await schema('github-workflow.schema.json'), workflow)).toEqual([]);
    const steps = workflow.jobs['certify']!.steps;
    const certify = steps.find((s) => s.run?.includes('npx readiness certify'));
    expect(certify).toMatchObject({ id: 'certify', 'continue-on-error': true });
    expect(steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))).toMatchObject({
      if: 'always()',
      with: { path: 'reports/' },
    });
    expect(steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'))?.with?.['sarif_file']).toMatch(
      /security\.sarif$/,
    );
    expect(workflow.permissions['security-events']).toBe('write');
    const gate = steps.at(-1)!;
    expect(gate.if).toBe("steps.certify.outcome != 'success'");
    expect(gate.run).toMatch(/exit 1/);
  });

  it('the GitLab CI job parses, fits the job schema, keeps the run folder and fails unless certified', async () => {
    const pipeline = (await load('ci/gitlab/readiness.gitlab-ci.yml')) as Record<
      string,
      {
        script: string[];
        allow_failure?: unknown;
        artifacts: { when: string; paths: string[]; reports: { junit: string } };
        variables: Record<string, string>;
      }
    >;
    expect(validate(await schema('gitlab-job.schema.json'), pipeline)).toEqual([]);
    const job = pipeline['readiness']!;
    expect(job.script).toContain('npx readiness certify');
    expect(job.allow_failure).toBeUndefined();
    expect(job.artifacts).toMatchObject({
      when: 'always',
      paths: ['reports/'],
      reports: { junit: 'reports/latest/junit.xml' },
    });
    expect(job.variables['TESTCONTAINERS_HOST_OVERRIDE']).toBe('docker');
  });

  it('the schemas reject a misspelled key (they can fail)', async () => {
    const broken = {
      name: 'x',
      on: { push: null },
      jobs: { a: { 'runs-on': 'ubuntu-latest', steps: [{ run: 'true', 'continue-on-eror': true }] } },
    };
    expect(validate(await schema('github-workflow.schema.json'), broken).join('\n')).toMatch(
      /must NOT have additional properties/,
    );
    expect(validate(await schema('gitlab-job.schema.json'), { j: { scripts: ['x'] } }).length).toBeGreaterThan(0);
  });
});
