export * from './invalidation';
export * from './trigger';
