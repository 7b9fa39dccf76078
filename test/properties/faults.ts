/**
 * The faults of the platform around CloudFront that a sequence's local cloud injects, beside
 * CloudFront's own (which the CloudFront emulator injects from the fault rate and seed).
 */
import type { Figures } from './figures';
import type { LifecycleDriver } from '../driver/driver';
import { Prng } from '../emulator/prng';

/**
 * Faults of the platform around CloudFront, each at a share of the fault rate, drawn from their own
 * seeded generator: CloudFormation's API throttled or hanging past an invocation's working time,
 * hand-overs that IAM refuses, invocations killed right after their answer went out, and answer
 * PUTs that the ResponseURL refuses.
 */
export function injectPlatformFaults(driver: LifecycleDriver, rate: number, seed: number, figures: Figures): void {
  const prng = new Prng(seed);
  /** Whether this call gets a fault (a share of the rate), counting it under `figure`. */
  const draw = (share: number, figure: 'cloudFormationFaults' | 'invokeDenials' | 'answerFaults'): boolean => {
    const hit = rate > 0 && prng.next() < rate * share;
    figures[figure] += hit ? 1 : 0;
    return hit;
  };
  const { cloudformation, lambda } = driver.cloud;
  cloudformation.throttleDescribeStacks = () => draw(1, 'cloudFormationFaults');
  cloudformation.apiDelayMs = () => (draw(0.25, 'cloudFormationFaults') ? 3000 : 0);
  const allow = driver.cloud.authorizer;
  driver.cloud.authorizer = (action, arn) => !(action === 'lambda:InvokeFunction' && draw(0.5, 'invokeDenials')) && allow(action, arn);
  cloudformation.answerFault = () => (draw(0.5, 'answerFaults') ? 'ServerError' : undefined);
  cloudformation.onAnswer = (token) => {
    if (rate > 0 && prng.next() < rate * 0.5) {
      figures.killsAfterAnswer += lambda.crashWhere((payload) => JSON.stringify(payload ?? null).includes(token));
    }
  };
}
