import { mkdtemp, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityContext } from '../../test/support/stage.ts';
import { startLoopbackServer } from '../../test/support/loopback-server.ts';
import type { LoopbackServer } from '../../test/support/loopback-server.ts';
import { resolveConfig } from '../config/load-config.ts';
import type { ResolvedConfig } from '../config/load-config.ts';
import type { CheckResult } from '../core/check-result.ts';
import { openApiSource } from './context.ts';
import { runErrorChecks, runInjectionCheck } from './native/input.ts';
import {
  runSchemathesisCheck,
  runZapCheck,
  schemathesisHeaders,
  schemathesisLocation,
  zapAuthHeader,
  zapDefinition,
} from './scanner-checks.ts';
import { schemathesisArgs } from './scanners/schemathesis.ts';
import { loadRulesPolicy } from './zap-policy.ts';
import { SecurityConfigDefaults } from '../../test/fixtures/security/defaults.ts';

const RULES = join(import.meta.dirname, '../../examples/reference-stack/security-rules.tsv');

/** A one-operation OpenAPI 3 document: POST /notes with a JSON body holding one string field. */
const NOTES_DOC = {
  openapi: '3.0.3',
  info: { title: 'notes', version: '1' },
  paths: {
    '/notes': {
      post: {
        requestBody: {
          content: {
            'application/json': { schema: { type: 'object', properties: { text: { type: 'string' } } } },
          },
        },
        responses: { '201': { description: 'created' } },
      },
    },
  },
};

/** What the test server answers on `GET /openapi.json`, set per test. */
let openapiAnswer: { status: number; body: string } = { status: 404, body: '{"error":"not_found"}' };
const requests: string[] = [];

/** A small service: sign-up, login, the OpenAPI route, and 400 to any body that is not JSON. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  req.on('end', () => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (req.method === 'GET' && req.url === '/openapi.json') {
      res.writeHead(openapiAnswer.status, { 'content-type': 'application/json' }).end(openapiAnswer.body);
      return;
    }
    try {
      if (body !== '') JSON.parse(body);
    } catch {
      json(400, { error: 'bad_request' });
      return;
    }
    if (req.url === '/users') json(201, { id: 'u1' });
    else if (req.url === '/login') json(200, { accessToken: 'token-for-tests', refreshToken: 'refresh-for-tests' });
    else json(400, { error: 'bad_request' });
  });
}

let server: LoopbackServer;
let baseUrl: string;
let dir: string;

beforeAll(async () => {
  server = await startLoopbackServer(handle);
  baseUrl = server.baseUrl;
  dir = await mkdtemp(join(tmpdir(), 'openapi-source-'));
  await writeFile(join(dir, 'notes.json'), JSON.stringify(NOTES_DOC));
});

afterAll(() => server.close());

/** A config in `dir` (so `openapi.file` resolves there) with `security` on top of a minimal one. */
function configWith(security: Record<string, unknown>): ResolvedConfig {
  return resolveConfig(
    {
      name: 'unit',
      stages: ['boot', 'security'],
      services: { api: { image: 'api:1', ports: [8080] } },
      auth: {
        principals: {
          alice: {
            scheme: 'bearer',
            username: 'alice@example.test',
            password: 'pw',
            role: 'customer',
            login: { path: '/login', body: { email: '{{username}}', password: '{{password}}' } },
          },
        },
        disposable: { like: 'alice', signup: { path: '/users', body: { email: '{{username}}' } } },
      },
      security: {
        target: { service: 'api', port: 8080 },
        rulesFile: RULES,
        auth: { probe: { path: '/me' } },
        injection: { payloads: ["' OR 1=1 --"] },
        ...security,
      },
    },
    join(dir, 'readiness.config.ts'),
  );
}

/** Runs the OpenAPI-driven checks (errors, injection, both scanners) and returns what they recorded. */
async function runOpenApiChecks(config: ResolvedConfig): Promise<CheckResult[]> {
  const { ctx, recorded } = securityContext(config, dir, baseUrl);
  const policy = await loadRulesPolicy(RULES);
  await runErrorChecks(ctx);
  await runInjectionCheck(ctx);
  await runSchemathesisCheck(ctx, policy);
  await runZapCheck(ctx, policy);
  return recorded;
}

const byId = (results: readonly CheckResult[], id: string): CheckResult => {
  const found = results.find((r) => r.id === id);
  if (!found) throw new Error(`${id} was not recorded`);
  return found;
};

describe('security.openapi: from the service, a file, or none (issue 14 point 4)', () => {
  it('false: injection, malformed JSON without requests and both scanners are not applicable, nothing is sent', async () => {
    requests.length = 0;
    const results = await runOpenApiChecks(configWith({ openapi: false }));
    const reason = 'Not applicable: no OpenAPI document (security.openapi: false)';
    for (const id of ['security.input.injection', 'security.scanner.schemathesis', 'security.scanner.zap']) {
      expect(byId(results, id), id).toMatchObject({ status: 'not-applicable', message: reason });
      expect(byId(results, id).tags, id).toContain('not-applicable');
      expect(byId(results, id).remediation, id).toBeUndefined();
    }
    expect(byId(results, 'security.errors.malformed-json')).toMatchObject({
      status: 'not-applicable',
      message: reason.replace('false)', 'false) and security.errors.malformedJson is empty'),
    });
    // The oversize check is not configured here: skipped before any request, so no request at all.
    expect(byId(results, 'security.errors.oversize-body').status).toBe('skipped');
    expect(requests).toEqual([]);
  });

  it('false with explicit malformed JSON requests: that check still runs', async () => {
    const config = configWith({
      openapi: false,
      errors: { malformedJson: [{ method: 'POST', path: '/notes', headers: { 'content-type': 'application/json' } }] },
    });
    const results = await runOpenApiChecks(config);
    expect(byId(results, 'security.errors.malformed-json')).toMatchObject({
      status: 'passed',
      message: '1 operations answered 400 with a clean body',
    });
    expect(byId(results, 'security.input.injection').status).toBe('not-applicable');
  });

  it('from the service: a document it does not serve is its failure (failed, with status and body), not broken', async () => {
    openapiAnswer = { status: 404, body: '{"error":"no route GET /openapi.json"}' };
    const results = await runOpenApiChecks(configWith({}));
    for (const id of [
      'security.errors.malformed-json',
      'security.input.injection',
      'security.scanner.schemathesis',
      'security.scanner.zap',
    ]) {
      const result = byId(results, id);
      expect(result.status, `${id}: ${result.message ?? ''}`).toBe('failed');
      expect(result.message, id).toContain('GET /openapi.json -> 404: the OpenAPI document is not served');
      expect(result.message, id).toContain('{"error":"no route GET /openapi.json"}');
      expect(result.evidence[0]?.content, id).toContain('GET /openapi.json -> 404');
    }
    openapiAnswer = { status: 200, body: '<html>docs</html>' };
    const html = await runOpenApiChecks(configWith({}));
    expect(byId(html, 'security.input.injection').message).toContain(
      'GET /openapi.json -> 200: the answer is not JSON',
    );
    openapiAnswer = { status: 200, body: '{"swagger":"2.0","paths":{}}' };
    const swagger = await runOpenApiChecks(configWith({}));
    expect(byId(swagger, 'security.input.injection')).toMatchObject({ status: 'failed' });
    expect(byId(swagger, 'security.input.injection').message).toContain('not an OpenAPI 3.x document');
  });

  it('from the service: a served document drives the injection check', async () => {
    openapiAnswer = { status: 200, body: JSON.stringify(NOTES_DOC) };
    requests.length = 0;
    const results = await runOpenApiChecks(configWith({ schemathesis: { enabled: false }, zap: { enabled: false } }));
    expect(byId(results, 'security.input.injection')).toMatchObject({ status: 'passed' });
    expect(requests.filter((r) => r === 'GET /openapi.json')).toHaveLength(1);
    expect(requests).toContain('POST /notes');
  });

  it('from a file (relative to the config): the checks use it and never ask the service for a document', async () => {
    openapiAnswer = { status: 404, body: 'not here' };
    requests.length = 0;
    const results = await runOpenApiChecks(
      configWith({ openapi: { file: 'notes.json' }, schemathesis: { enabled: false }, zap: { enabled: false } }),
    );
    expect(byId(results, 'security.input.injection')).toMatchObject({
      status: 'passed',
      message: expect.stringMatching(/^1 requests over 1 string fields of 1 operations/),
    });
    expect(byId(results, 'security.errors.malformed-json')).toMatchObject({ status: 'passed' });
    expect(requests).not.toContain('GET /openapi.json');
    expect(requests.filter((r) => r === 'POST /notes').length).toBeGreaterThanOrEqual(2);
  });

  it('the scanners read a file from the file: schemathesis with --url, ZAP from its work folder aimed at the target', () => {
    const source = openApiSource({ file: 'api/openapi.json' }, '/repo');
    expect(source).toEqual({ kind: 'file', file: '/repo/api/openapi.json' });
    if (source.kind !== 'file') throw new Error('not a file source');
    const location = schemathesisLocation(source, 'http://127.0.0.1:3000');
    expect(location).toEqual({ location: '/repo/api/openapi.json', baseUrl: 'http://127.0.0.1:3000' });
    const args = schemathesisArgs({
      ...location,
      headers: { 'x-api-key': 'k1' },
      reportFile: 'r.json',
      seed: 1,
      requestTimeoutS: 5,
      config: SecurityConfigDefaults.schemathesis,
    });
    expect(args.slice(0, 4)).toEqual(['run', '/repo/api/openapi.json', '--url', 'http://127.0.0.1:3000']);
    const zap = zapDefinition(source, 'api:8080', { ...NOTES_DOC, servers: [{ url: 'https://prod.example' }] });
    expect(zap.target).toBe('openapi.json');
    expect(zap.definition).toMatchObject({ paths: NOTES_DOC.paths, servers: [{ url: 'http://api:8080' }] });
    // From the service: the URL, as before.
    const service = openApiSource({ path: '/v3/api-docs' }, '/repo');
    if (service.kind !== 'service') throw new Error('not a service source');
    expect(schemathesisLocation(service, 'http://127.0.0.1:3000')).toEqual({
      location: 'http://127.0.0.1:3000/v3/api-docs',
    });
    expect(zapDefinition(service, 'api:8080', {})).toEqual({ target: 'http://api:8080/v3/api-docs' });
  });

  it("ZAP adds the user's first credential header, whatever the scheme, and none for a user without one", () => {
    expect(zapAuthHeader({ cookie: 'sid=s1' })).toEqual({ name: 'cookie', value: 'sid=s1' });
    expect(zapAuthHeader({ 'x-api-key': 'k1' })).toEqual({ name: 'x-api-key', value: 'k1' });
    expect(zapAuthHeader({})).toBeUndefined();
  });

  it('schemathesis gets credential headers named as the document declares them, so ignored_auth can remove them', () => {
    const doc = {
      ...NOTES_DOC,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer' },
          key: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    };
    expect(schemathesisHeaders({ authorization: 'Bearer t' }, doc)).toEqual({ Authorization: 'Bearer t' });
    expect(schemathesisHeaders({ 'x-api-key': 'k1' }, doc)).toEqual({ 'X-API-Key': 'k1' });
    expect(schemathesisHeaders({ cookie: 'sid=s1' }, NOTES_DOC)).toEqual({ Cookie: 'sid=s1' });
    expect(schemathesisHeaders({ 'x-session-token': 's' }, NOTES_DOC)).toEqual({ 'X-Session-Token': 's' });
  });
});
