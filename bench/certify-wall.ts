// Wall time of the whole `npm run certify` with warm images (the first run warms them and is
// reported separately). Prints figures; never asserts. Usage: node bench/certify-wall.ts [runs=2]
import { spawnSync } from 'node:child_process';

const runs = Number(process.argv[2] ?? 2);
const once = (): { ms: number; code: number | null } => {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['src/cli/main.ts', 'certify'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, FRAGILE: '' },
  });
  return { ms: performance.now() - started, code: result.status };
};
const warmup = once();
console.log(`warm-up run: ${(warmup.ms / 1000).toFixed(1)} s (exit ${warmup.code})`);
const times: number[] = [];
for (let i = 0; i < runs; i += 1) {
  const { ms, code } = once();
  times.push(ms);
  console.log(`run ${i + 1}: ${(ms / 1000).toFixed(1)} s (exit ${code})`);
}
console.log(
  `npm run certify with warm images: min ${(Math.min(...times) / 1000).toFixed(1)} s, max ${(Math.max(...times) / 1000).toFixed(1)} s over ${runs} runs`,
);
