/**
 * SQS as the lifecycle driver deploys it: the queues and the queue policies, which decide whether
 * EventBridge may put a rule's undeliverable event into a dead-letter queue.
 */

/** A queue policy's statements, with the URLs of the queues it attaches to. */
interface QueuePolicy {
  readonly queues: string[];
  readonly statements: unknown[];
}

/** The queues and queue policies deployed. */
export class DeployedQueues {
  /** Queues by ARN, with their URL. */
  private readonly queues = new Map<string, string>();
  /** Applied queue policies by policy resource. */
  private readonly policies = new Map<string, QueuePolicy>();

  /** A queue created (or updated), by its ARN and URL. */
  public putQueue(arn: string, url: string): void {
    this.queues.set(arn, url);
  }

  /** A queue deleted. */
  public deleteQueue(arn: string): void {
    this.queues.delete(arn);
  }

  /** A queue policy applied, by its policy resource. */
  public putPolicy(key: string, policy: QueuePolicy): void {
    this.policies.set(key, policy);
  }

  /** A queue policy deleted. */
  public deletePolicy(key: string): void {
    this.policies.delete(key);
  }

  /**
   * Whether EventBridge may put a rule's undeliverable event into a queue: the queue exists and a
   * queue policy allows `events.amazonaws.com` to send to it for that rule.
   */
  public accepts(queueArn: string, ruleArn: string): boolean {
    const url = this.queues.get(queueArn);
    if (!url) {
      return false;
    }
    interface Statement {
      readonly Effect?: string;
      readonly Principal?: { Service?: string | string[] };
      readonly Action?: string | string[];
      readonly Resource?: string | string[];
      readonly Condition?: Record<string, Record<string, unknown>>;
    }
    const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).map(String);
    return [...this.policies.values()].filter((p) => p.queues.includes(url)).flatMap((p) => p.statements as Statement[]).some((s) => s.Effect === 'Allow'
      && list(s.Principal?.Service).includes('events.amazonaws.com')
      && list(s.Action).some((a) => a === 'sqs:SendMessage' || a === 'sqs:*')
      && list(s.Resource).some((r) => r === queueArn || r === '*')
      && Object.values(s.Condition ?? {}).every((c) => list(c['aws:SourceArn'] ?? ruleArn).includes(ruleArn)));
  }
}
