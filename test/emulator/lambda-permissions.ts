/**
 * The Lambda stand-in's resource-based policies: the statements AWS::Lambda::Permission adds to a
 * function's policy (AddPermission, RemovePermission), which say who else may invoke it.
 */

/** One statement of a function's resource-based policy, as AWS::Lambda::Permission adds it. */
export interface PermissionStatement {
  /** `lambda:InvokeFunction`, or a wildcard such as `lambda:*`. */
  readonly action: string;
  /** A service principal (`events.amazonaws.com`) or an account. */
  readonly principal: string;
  /** Only this source (a rule's ARN) may invoke, when given. */
  readonly sourceArn?: string;
  readonly sourceAccount?: string;
}

/** Every function's resource-based policy, by function name, then statement id. */
export class ResourcePolicies {
  private readonly policies = new Map<string, Map<string, PermissionStatement>>();

  /** AddPermission: a statement of the function's policy; the function by name, partial ARN or full ARN. */
  public add(functionName: string, statementId: string, statement: PermissionStatement): void {
    const name = nameOf(functionName);
    const policy = this.policies.get(name) ?? new Map<string, PermissionStatement>();
    policy.set(statementId, statement);
    this.policies.set(name, policy);
  }

  /** RemovePermission. */
  public remove(functionName: string, statementId: string): void {
    this.policies.get(nameOf(functionName))?.delete(statementId);
  }

  /** Drops the whole policy of a function (by name), as deleting the function does. */
  public drop(name: string): void {
    this.policies.delete(name);
  }

  /** Whether the function's policy lets a service principal invoke it on behalf of a source. */
  public permits(principal: string, functionName: string, sourceArn: string): boolean {
    const statements = [...(this.policies.get(nameOf(functionName))?.values() ?? [])];
    return statements.some((s) => s.principal === principal
      && (s.action === 'lambda:InvokeFunction' || s.action === 'lambda:*' || s.action === '*')
      && (s.sourceArn === undefined || s.sourceArn === sourceArn));
  }
}

/** The function name in a name, a partial ARN or a full ARN (with a version or alias dropped). */
function nameOf(functionName: string): string {
  const m = /(?:^|:)function:([^:]+)/.exec(functionName);
  return m ? m[1] : functionName;
}
