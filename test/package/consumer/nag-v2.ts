/**
 * cdk-nag 2 (aws-cdk-lib below cdk-nag 3's floor): the packs are Aspects that annotate the
 * resources, and acknowledgements are cdk-nag's own suppressions, kept in the template's metadata.
 * The harness copies this file to nag.ts in the scratch app.
 */
import { Aspects } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagSuppressions, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { Acknowledgement } from './site';

export const PACKS = {
  AwsSolutions: () => new AwsSolutionsChecks(),
  Serverless: () => new ServerlessChecks(),
  'NIST.800.53.R5': () => new NIST80053R5Checks(),
  'HIPAA.Security': () => new HIPAASecurityChecks(),
  'PCI.DSS.321': () => new PCIDSS321Checks(),
};

export function addPacks(app: App, packs: Array<keyof typeof PACKS>): void {
  for (const pack of packs) {
    Aspects.of(app).add(PACKS[pack]());
  }
}

/** Acknowledges rules on a construct and everything under it. */
export function acknowledge(scope: IConstruct, rules: Acknowledgement[]): void {
  NagSuppressions.addResourceSuppressions(scope, rules.map(({ id, reason }) => ({ id, reason })), true);
}
