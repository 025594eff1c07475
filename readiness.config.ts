// This repository's own config is the reference example: `npm run certify` and the harness's tests
// certify it. Its settings live in examples/reference-stack/ (one file per stage), its services in
// fixtures/stack, its experiments and k6 scripts in scenarios/, its pacts in contracts/.
export { default } from './examples/reference-stack/readiness.config.ts';
