import { createHash } from 'node:crypto';

/** A small seeded PRNG (mulberry32) so data, ordering and toxicity replay from the run seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed for one named part of a run (an experiment, a drill's ledger), derived from the run seed. */
export function derivedSeed(seed: number, id: string): number {
  return createHash('sha256').update(`${seed}:${id}`).digest().readUInt32BE(0);
}

/** A fresh seed when none was given. */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
