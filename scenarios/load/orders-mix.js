// k6 script: a realistic mix on the reference orders API (login, create order with an
// Idempotency-Key, get one, list). Targets, credentials and the seed come from env; the
// harness supplies scenarios and thresholds through `--config`, so this file only defines
// what one iteration does. Every request is tagged `name:<endpoint>` for per-endpoint thresholds.
import http from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';

const BASE_URL = __ENV.BASE_URL;
const SEED = __ENV.READINESS_SEED || '1';
const USERS = Number(__ENV.LOAD_USERS || '24');
const PASSWORD = __ENV.LOAD_PASSWORD || 'load-Secret-pass-1';
/** Share of iterations that log in (anonymous: rate-limited per IP, so keep it small). */
const LOGIN_SHARE = Number(__ENV.LOAD_LOGIN_SHARE || '0.03');
const CREATE_SHARE = Number(__ENV.LOAD_CREATE_SHARE || '0.25');
const GET_SHARE = Number(__ENV.LOAD_GET_SHARE || '0.37');
const SKUS = ['APPLE', 'BREAD', 'COFFEE', 'TEA', 'BOOK', 'LAMP'];

if (!BASE_URL) throw new Error('BASE_URL is not set');

const json = { 'content-type': 'application/json' };

/**
 * A deterministic pseudo-random stream (mulberry32), so a run seed replays the same mix.
 * @param {number} seed
 * @returns {() => number}
 */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * POST with retries on 429 (honouring Retry-After): only used in setup, never under measurement.
 * @param {string} path
 * @param {object} body
 * @param {import('k6/http').RefinedParams<'text'>} params
 */
function postPatiently(path, body, params) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const res = http.post(`${BASE_URL}${path}`, JSON.stringify(body), params);
    if (res.status !== 429) return res;
    sleep(Math.min(10, Number(res.headers['Retry-After'] || '1')));
  }
  throw new Error(`${path}: still rate-limited after 20 attempts`);
}

/**
 * @param {string} email
 * @param {Record<string, string>} tags
 */
function login(email, tags) {
  return http.post(`${BASE_URL}/v1/auth/login`, JSON.stringify({ email, password: PASSWORD }), {
    headers: json,
    tags,
  });
}

/**
 * Credential headers the harness obtained for a principal of `auth.principals` listed in
 * `load.principals` (`READINESS_AUTH_<NAME>`, JSON), or undefined when it is not listed.
 * @param {string} name
 * @returns {Record<string, string> | undefined}
 */
function principalHeaders(name) {
  const value = __ENV[`READINESS_AUTH_${name.toUpperCase().replace(/-/g, '_')}`];
  return value ? JSON.parse(value) : undefined;
}

/** Signs up (or reuses) the load users, logs each in and gives each one order to read. */
export function setup() {
  // The harness's credentials for alice must authenticate: one read before the load, never measured.
  const alice = principalHeaders('alice');
  if (alice) {
    const res = http.get(`${BASE_URL}/v1/orders?limit=1`, { headers: alice, tags: { name: 'setup' } });
    if (res.status !== 200) throw new Error(`GET /v1/orders as alice (READINESS_AUTH_ALICE): ${res.status}`);
  }
  /** @type {LoadUser[]} */
  const users = [];
  for (let i = 0; i < USERS; i++) {
    const email = `load-${SEED}-${i}@example.test`;
    // 401 (not signed up yet) and 409 (already signed up) are expected answers here, not failures.
    const params = {
      headers: json,
      tags: { name: 'setup' },
      responseCallback: http.expectedStatuses(200, 201, 401, 409),
    };
    let res = postPatiently('/v1/auth/login', { email, password: PASSWORD }, params);
    if (res.status === 401) {
      const created = postPatiently('/v1/users', { email, name: `Load ${i}`, password: PASSWORD }, params);
      if (created.status !== 201 && created.status !== 409) throw new Error(`sign-up ${email}: ${created.status}`);
      res = postPatiently('/v1/auth/login', { email, password: PASSWORD }, params);
    }
    if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.body}`);
    const token = String(res.json('accessToken'));
    const order = http.post(`${BASE_URL}/v1/orders`, JSON.stringify({ items: [{ sku: 'TEA', qty: 1 }] }), {
      headers: { ...json, authorization: `Bearer ${token}`, 'idempotency-key': `load-${SEED}-setup-${i}` },
      tags: { name: 'setup' },
    });
    if (order.status >= 300) throw new Error(`first order of ${email}: ${order.status}`);
    users.push({ email, token, orderId: String(order.json('id')) });
  }
  return { users };
}

/** @typedef {{ email: string, token: string, orderId: string }} LoadUser */

/** One iteration of the mix. @param {{ users: LoadUser[] }} data */
export default function mix(data) {
  const iteration = exec.scenario.iterationInTest;
  const random = rng(Number(SEED) * 1_000_003 + iteration);
  const user = data.users[iteration % data.users.length];
  const auth = { ...json, authorization: `Bearer ${user.token}` };
  const pick = random();
  if (pick < LOGIN_SHARE) {
    const res = login(user.email, { name: 'login' });
    check(res, { 'login 200': (r) => r.status === 200 });
  } else if (pick < LOGIN_SHARE + CREATE_SHARE) {
    const items = [{ sku: SKUS[Math.floor(random() * SKUS.length)], qty: 1 + Math.floor(random() * 3) }];
    const res = http.post(`${BASE_URL}/v1/orders`, JSON.stringify({ items }), {
      headers: { ...auth, 'idempotency-key': `load-${SEED}-${exec.scenario.name}-${iteration}` },
      tags: { name: 'create' },
    });
    check(res, { 'create 2xx': (r) => r.status >= 200 && r.status < 300 });
  } else if (pick < LOGIN_SHARE + CREATE_SHARE + GET_SHARE) {
    const res = http.get(`${BASE_URL}/v1/orders/${user.orderId}`, { headers: auth, tags: { name: 'get' } });
    check(res, { 'get 200': (r) => r.status === 200 });
  } else {
    const res = http.get(`${BASE_URL}/v1/orders?limit=20`, { headers: auth, tags: { name: 'list' } });
    check(res, { 'list 200': (r) => r.status === 200 });
  }
}

/** A trivial endpoint, for measuring k6's own headroom (bench/k6-headroom.ts). */
export function live() {
  const res = http.get(`${BASE_URL}/health/live`, { tags: { name: 'live' } });
  check(res, { 'live 200': (r) => r.status === 200 });
}
