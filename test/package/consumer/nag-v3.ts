/**
 * cdk-nag 3 (aws-cdk-lib from cdk-nag 3's floor on): the packs are policy validation plugins that
 * run after synthesis, and acknowledgements are aws-cdk-lib's own (`Validations.of(scope).acknowledge`),
 * recorded as the 'aws:cdk:acknowledged-rules' metadata. The harness copies this file to nag.ts in
 * the scratch app.
 */
import { Validations } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { Acknowledgement } from './site';

export const PACKS = {
  AwsSolutions: (app: App) => new AwsSolutionsChecks(app),
  Serverless: (app: App) => new ServerlessChecks(app),
  'NIST.800.53.R5': (app: App) => new NIST80053R5Checks(app),
  'HIPAA.Security': (app: App) => new HIPAASecurityChecks(app),
  'PCI.DSS.321': (app: App) => new PCIDSS321Checks(app),
};

export function addPacks(app: App, packs: Array<keyof typeof PACKS>): void {
  Validations.of(app).addPlugins(...packs.map((pack) => PACKS[pack](app)));
}

/** Acknowledges rules on a construct and everything under it; a rule with findings, each of them. */
export function acknowledge(scope: IConstruct, rules: Acknowledgement[]): void {
  for (const { id, reason, findings } of rules) {
    for (const finding of findings ?? [undefined]) {
      Validations.of(scope).acknowledge({ id: finding === undefined ? id : `${id}[${finding}]`, reason });
    }
  }
}
