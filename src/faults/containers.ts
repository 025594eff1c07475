// Moved to src/stack/containers.ts so every stage can share it; kept here for existing imports.
export * from '../stack/containers.ts';
