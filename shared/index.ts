export * from './schemas/index.js';
export * from './domain/index.js';
