// Moved to src/runner/templates.ts so every stage can share it; kept here for existing imports.
export * from '../runner/templates.ts';
