// k6 script for miniflux's REST API. The harness supplies scenarios and thresholds; this file says
// what one iteration does. Credentials come from load.principals: READINESS_AUTH_ADMIN (HTTP basic)
// and READINESS_AUTH_ADMIN_KEY (an API key the harness created for the admin, in X-Auth-Token), the
// JSON of the headers to send; the two entry points compare the same reads under the two schemes.
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';

const BASE_URL = __ENV.BASE_URL;
if (!BASE_URL || !__ENV.READINESS_AUTH_ADMIN || !__ENV.READINESS_AUTH_ADMIN_KEY)
  throw new Error('BASE_URL, READINESS_AUTH_ADMIN and READINESS_AUTH_ADMIN_KEY must be set');
/** @type {Record<string, string>} */
const basic = JSON.parse(__ENV.READINESS_AUTH_ADMIN);
/** @type {Record<string, string>} */
const apiKey = JSON.parse(__ENV.READINESS_AUTH_ADMIN_KEY);
const json = { 'content-type': 'application/json' };

/** One category to read. */
export function setup() {
  const category = http.post(`${BASE_URL}/v1/categories`, JSON.stringify({ title: `k6 ${Date.now()}` }), {
    headers: { ...json, ...basic },
    tags: { name: 'setup' },
  });
  if (category.status !== 201) throw new Error(`POST /v1/categories: ${category.status} ${category.body}`);
  return { categoryId: category.json('id') };
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

/** @param {{ categoryId: number }} data */
export function withApiKey(data) {
  iteration(apiKey, data.categoryId);
}

/** @param {{ categoryId: number }} data */
export function withBasicAuth(data) {
  iteration(basic, data.categoryId);
}
