// Moved to src/runner/write-ledger.ts so every stage can share it; kept here for existing imports.
export * from '../runner/write-ledger.ts';
