export * from './invalidation';
export * from './invalidation-paths';
export * from './trigger';
