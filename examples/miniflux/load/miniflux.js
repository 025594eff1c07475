// k6 script for miniflux's REST API. The harness supplies scenarios and thresholds; this file says
// what one iteration does. setup() creates an API key for the admin (POST /v1/api-keys over HTTP
// basic), so the two entry points compare the same reads under the two auth schemes miniflux has.
import http from 'k6/http';
import { check } from 'k6';
import encoding from 'k6/encoding';
import exec from 'k6/execution';

const BASE_URL = __ENV.BASE_URL;
const USERNAME = __ENV.MINIFLUX_USERNAME;
const PASSWORD = __ENV.MINIFLUX_PASSWORD;
if (!BASE_URL || !USERNAME || !PASSWORD)
  throw new Error('BASE_URL, MINIFLUX_USERNAME and MINIFLUX_PASSWORD must be set');

const basic = `Basic ${encoding.b64encode(`${USERNAME}:${PASSWORD}`)}`;
const json = { 'content-type': 'application/json' };

/** One API key for the run, and one category to read. */
export function setup() {
  const params = { headers: { ...json, authorization: basic }, tags: { name: 'setup' } };
  const key = http.post(
    `${BASE_URL}/v1/api-keys`,
    JSON.stringify({ description: `k6 ${__ENV.READINESS_SEED || '1'} ${Date.now()}` }),
    params,
  );
  if (key.status !== 201) throw new Error(`POST /v1/api-keys: ${key.status} ${key.body}`);
  const category = http.post(`${BASE_URL}/v1/categories`, JSON.stringify({ title: `k6 ${Date.now()}` }), params);
  if (category.status !== 201) throw new Error(`POST /v1/categories: ${category.status} ${category.body}`);
  return { token: key.json('token'), categoryId: category.json('id') };
}

/**
 * The reads a feed reader's client makes, one per iteration in turn.
 * @param {Record<string, string>} headers
 * @param {number} categoryId
 */
function iteration(headers, categoryId) {
  const step = exec.scenario.iterationInTest % 3;
  /** @param {string} name */
  const params = (name) => ({ headers, tags: { name } });
  const res =
    step === 0
      ? http.get(`${BASE_URL}/v1/me`, params('me'))
      : step === 1
        ? http.get(`${BASE_URL}/v1/categories`, params('categories'))
        : http.get(`${BASE_URL}/v1/categories/${categoryId}/feeds`, params('category-feeds'));
  check(res, { 'status is 200': (r) => r.status === 200 });
}

/** @param {{ token: string, categoryId: number }} data */
export function withApiKey(data) {
  iteration({ 'x-auth-token': data.token }, data.categoryId);
}

/** @param {{ token: string, categoryId: number }} data */
export function withBasicAuth(data) {
  iteration({ authorization: basic }, data.categoryId);
}
