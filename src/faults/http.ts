// Moved to src/runner/http.ts so every stage can share it; kept here for existing imports.
export * from '../runner/http.ts';
