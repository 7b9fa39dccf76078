export * from './handler-settings';
export * from './invalidation';
export * from './invalidation-paths';
export * from './trigger';
