/**
 * The handler settings given for each stack, checked and merged, for the stack's provider to apply
 * when it is created after them.
 */
import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { newestNodeRuntime, nodeVersion, OLDEST_NODE } from './handler-runtime';
import type { InvalidationHandlerSettings } from './handler-settings';

/** Every setting given for a stack, merged: the provider applies them when it is created after them. */
const givenSettings = new WeakMap<Stack, InvalidationHandlerSettings>();

/** Settings that add resources or permissions: each may be given once per stack (again only with the same value). */
const SET_ONCE = ['logEncryptionKey', 'tracing', 'vpc', 'vpcSubnets', 'securityGroups', 'failureAlarm', 'failureAlarmActions'] as const;

/** Every setting given so far for the stack, merged; empty when none was. */
export function settingsGivenFor(stack: Stack): InvalidationHandlerSettings {
  return givenSettings.get(stack) ?? {};
}

/**
 * Checks settings given from `scope` and merges them into those of its stack.
 *
 * @returns whether they are the first settings given for the stack.
 * @throws when a setting is invalid, or one of `SET_ONCE` was given before with another value.
 */
export function recordSettings(scope: IConstruct, settings: InvalidationHandlerSettings): boolean {
  checkSettings(scope, settings);
  const stack = Stack.of(scope);
  const given = givenSettings.get(stack);
  for (const name of SET_ONCE) {
    if (given?.[name] !== undefined && settings[name] !== undefined && given[name] !== settings[name]) {
      throw new Error(`${scope.node.path}: ${name} is already set for the handler of stack ${stack.node.path}; `
        + `give ${SET_ONCE.join(', ')} once per stack`);
    }
  }
  givenSettings.set(stack, { ...given, ...settings });
  return given === undefined;
}

/** Refuses settings the handler cannot run with, naming the setting and the value. */
function checkSettings(scope: IConstruct, settings: InvalidationHandlerSettings): void {
  const scopePath = scope.node.path;
  if (settings.logRemovalPolicy === RemovalPolicy.SNAPSHOT) {
    throw new Error(`${scopePath}: logRemovalPolicy is RemovalPolicy.SNAPSHOT, but a log group has no snapshots; use RETAIN or DESTROY`);
  }
  if (settings.runtime !== undefined && (nodeVersion(settings.runtime) ?? 0) < OLDEST_NODE) {
    throw new Error(`${scopePath}: runtime is ${settings.runtime.name}, but the handler needs a Node.js runtime, nodejs${OLDEST_NODE}.x or newer `
      + `(such as ${newestNodeRuntime().name}); leave runtime out for the newest one aws-cdk-lib knows`);
  }
  const whole = (name: string, value: number | undefined, min: number, max: number, unit: string) => {
    if (value !== undefined && !Token.isUnresolved(value) && (!Number.isInteger(value) || value < min || value > max)) {
      throw new Error(`${scopePath}: ${name} is ${value}, but must be a whole number ${unit}from ${min} to ${max}`);
    }
  };
  whole('memorySize', settings.memorySize, 128, 10240, 'of MiB ');
  const retention = settings.logRetention;
  if (retention !== undefined && !Token.isUnresolved(retention) && !Object.values(logs.RetentionDays).includes(retention)) {
    throw new Error(`${scopePath}: logRetention is ${retention}, which is not one of CloudWatch Logs' retention periods; give a logs.RetentionDays value`);
  }
  whole('reservedConcurrentExecutions', settings.reservedConcurrentExecutions, 1, 1_000_000, '');
  if (settings.vpc === undefined) {
    for (const name of ['vpcSubnets', 'securityGroups'] as const) {
      if (settings[name] !== undefined) {
        throw new Error(`${scopePath}: ${name} is given without vpc; give the vpc the handler runs in too`);
      }
    }
  }
}
