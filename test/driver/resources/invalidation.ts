/**
 * `Custom::CloudFrontInvalidation`, this library's custom resource: each Create, Update and Delete
 * is a request delivered to its handler in the Lambda stand-in (`../delivery`), and the answer
 * decides: SUCCESS with the physical id and `Data` (its attributes), or FAILED. An Update answered
 * with a new physical id replaces the resource; a failed Create that answered a physical id leaves
 * a resource to delete.
 */
import { failureReason, sendRequest } from '../delivery';
import { replaceResource } from '../replacement';
import type { ResourceType } from './resource-type';

/** The invalidation resource, played by its real handler. */
export const invalidation: ResourceType = {
  async create(context, properties) {
    const { state, stack, logicalId, type, phase, options } = context;
    const record = await sendRequest(state, stack, { logicalId, resourceType: type, requestType: 'Create', properties }, phase, options);
    const answer = record.answer;
    if (answer?.Status !== 'SUCCESS') {
      if (answer?.PhysicalResourceId) {
        // It exists, under the physical id it answered: whatever deletes what the operation created deletes it too.
        stack.transition?.failedCreates.push({ logicalId, type, physicalId: answer.PhysicalResourceId, properties, attributes: {} });
      }
      return { reason: failureReason(record), physicalId: answer?.PhysicalResourceId };
    }
    stack.resources.set(logicalId, { logicalId, type, physicalId: answer.PhysicalResourceId, properties, attributes: { ...answer.Data } });
    return undefined;
  },

  async update(context, existing, properties) {
    const { state, stack, logicalId, type } = context;
    const subject = { logicalId, resourceType: type, requestType: 'Update' as const, properties, oldProperties: existing.properties, physicalId: existing.physicalId };
    const record = await sendRequest(state, stack, subject, context.phase, context.options);
    const answer = record.answer;
    if (answer?.Status !== 'SUCCESS') {
      return failureReason(record);
    }
    if (answer.PhysicalResourceId !== existing.physicalId) {
      replaceResource(state, stack, existing, answer.PhysicalResourceId, context.phase);
    }
    existing.properties = properties;
    existing.attributes = { ...answer.Data };
    return undefined;
  },

  async delete(context, deployed) {
    // CloudFormation retries a failing cleanup Delete and then moves on; the handler must never fail one.
    const subject = { logicalId: deployed.logicalId, resourceType: deployed.type, requestType: 'Delete' as const, properties: deployed.properties, physicalId: deployed.physicalId };
    const record = await sendRequest(context.state, context.stack, subject, context.phase, {});
    return record.answer?.Status === 'SUCCESS' ? undefined : failureReason(record);
  },
};
