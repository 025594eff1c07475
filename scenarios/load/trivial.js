// k6 script for bench/k6-headroom.ts: one GET per iteration against a trivial endpoint, to
// measure how many requests per second k6 itself can generate on this machine.
import http from 'k6/http';

const BASE_URL = __ENV.BASE_URL;
if (!BASE_URL) throw new Error('BASE_URL is not set');

export default function trivial() {
  http.get(`${BASE_URL}/`, { tags: { name: 'trivial' } });
}
