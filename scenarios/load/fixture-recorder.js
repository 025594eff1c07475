// k6 script of test/fixtures/load/record/record-k6.ts: requests with `name` tags against its local server.
import http from 'k6/http';
import { check } from 'k6';

const BASE_URL = __ENV.BASE_URL;
if (!BASE_URL) throw new Error('BASE_URL is not set');

/** @param {string} name */
const get = (name) => check(http.get(`${BASE_URL}/${name}`, { tags: { name } }), { ok: (r) => r.status === 200 });

/** 30% list (60 ms), 5% rare, the rest get (3 ms). */
export function mix() {
  const r = Math.random();
  get(r < 0.3 ? 'list' : r < 0.35 ? 'rare' : 'get');
}

/** Every request takes 400 ms. */
export function slow() {
  get('slow');
}

/** Half the requests hang past k6's graceful stop. */
export function hang() {
  get(Math.random() < 0.5 ? 'hang' : 'get');
}
