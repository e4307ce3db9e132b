/**
 * Every cdk-nag (AwsSolutions) finding Processa accepts, in one place, each with its reason.
 * cdk-nag 3 reads CDK's own acknowledgments (`Validations.of(construct).acknowledge`), matched
 * by exact id: an IAM5 acknowledgment names the one wildcard resource it accepts, on the one role
 * that holds it, so a new wildcard anywhere else is still reported. Acknowledgments are construct
 * metadata only; they change nothing in the template.
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { IConstruct } from 'constructs';
import {
  defaultRoute,
  functions,
  streamConsumer,
  tables,
  type FunctionDefinition,
  type FunctionName,
  type RouteDefinition,
  type TableAccess,
  type TableName,
} from '../app-definition.js';
import type { Stateful } from './stateful.js';
import type { Stateless } from './stateless.js';

export interface NagAcknowledgment {
  /** Path of the construct acknowledged (it and everything under it). */
  path: string;
  id: string;
  reason: string;
}

function acknowledge(construct: IConstruct, id: string, reason: string, into: NagAcknowledgment[]): void {
  Validations.of(construct).acknowledge({ id, reason });
  into.push({ path: construct.node.path, id, reason });
}

/** How cdk-nag prints the ARN pattern CDK's table grants add for global secondary indexes. */
export const indexWildcardFinding = (table: dynamodb.ITable): string => {
  const stack = Stack.of(table);
  return `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(table.node.defaultChild as CfnElement)}.Arn>/index/*]`;
};

/** Applies the acknowledgments and returns them (for the report and the tests). */
export function acknowledgeNagFindings(stateful: Stateful, stateless: Stateless): NagAcknowledgment[] {
  const acknowledged: NagAcknowledgment[] = [];

  // SQS3: a queue that neither is a DLQ (by RedrivePolicy) nor has one.
  acknowledge(
    stateful.queues[streamConsumer.onFailure],
    'AwsSolutions-SQS3',
    `This queue is itself a dead-letter destination: the drafts stream event source mapping of ${streamConsumer.function} sends ` +
      'the batch metadata it gave up on here (OnFailure destination, not a RedrivePolicy, so cdk-nag cannot see it). Nothing ' +
      'consumes it automatically; an alarm fires on any visible message and an operator replays the batch.',
    acknowledged,
  );

  for (const [name, definition] of Object.entries(functions) as Array<[FunctionName, FunctionDefinition]>) {
    const fn = stateless.functions[name];
    acknowledge(
      fn,
      'AwsSolutions-L1',
      'Node.js 22 is the runtime the project targets and tests against (middy 6, the SDK and Powertools are pinned for it); ' +
        'moving to a newer runtime is a deliberate upgrade with its own test run, not a side effect of a lint rule.',
      acknowledged,
    );
    const role = fn.role;
    if (!role) throw new Error(`${name} has no execution role`);

    // IAM5 Resource::*: actions that IAM cannot scope to a resource (X-Ray's only with tracing on).
    const traced = fn.tracingMode !== 'off';
    const streams = name === streamConsumer.function;
    const unscoped = [...(traced ? ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] : []), ...(streams ? ['dynamodb:ListStreams'] : [])];
    const why = [...(traced ? ['X-Ray active tracing'] : []), ...(streams ? ['ListStreams for the stream event source'] : [])];
    if (unscoped.length > 0)
      acknowledge(
        role,
        'AwsSolutions-IAM5[Resource::*]',
        `Only ${unscoped.join(', ')} on "*": IAM supports no resource-level permissions for them (${why.join('; ')}). ` +
          'Every table and queue action is scoped to its ARN; test/infra checks that no other action is granted on "*".',
        acknowledged,
      );

    // IAM5 <table ARN>/index/*: CDK's table grants list the table's GSIs next to the table.
    for (const [table, access] of Object.entries(definition.tables) as Array<[TableName, TableAccess]>) {
      const indexes = tables[table].indexes as ReadonlyArray<{ name: string }>;
      if (indexes.length === 0) continue;
      const effect =
        access === 'write'
          ? 'the write actions have no meaning on an index, so it adds nothing'
          : `it lets ${name} Query the indexes (${indexes.map((index) => index.name).join(', ')})`;
      acknowledge(
        role,
        indexWildcardFinding(stateful.tables[table]),
        `CDK's ${access} grant on the ${table} table also lists <table ARN>/index/*, this table's global secondary indexes ` +
          `only; ${effect}. No other table's indexes are covered.`,
        acknowledged,
      );
    }
  }

  // APIG4: routes without an API Gateway authorizer; every handler authorizes the request itself.
  for (const { definition, route } of stateless.routes) acknowledge(route, 'AwsSolutions-APIG4', routeAuthReason(definition), acknowledged);
  acknowledge(
    stateless.defaultRoute,
    'AwsSolutions-APIG4',
    `Public on purpose: the $default route only tells a caller that no route matches (404, or 405 with Allow), in the ` +
      `API's error shape; ${defaultRoute.function} reads no table, and which routes exist is public in /v1/openapi.json. ` +
      'The stage throttle limits it like every route.',
    acknowledged,
  );

  return acknowledged;
}

/** Why a route needs no API Gateway authorizer, from how the definition says it authenticates. */
function routeAuthReason(route: RouteDefinition): string {
  const auth = route.auth ?? 'bearer';
  if (auth === 'none') {
    return (
      `Public on purpose: ${route.method} ${route.path} serves a static document (${route.function} reads no table); the ` +
      'stage throttle limits it like every route.'
    );
  }
  if (route.function === 'emailDecisions') {
    return (
      `${route.method} ${route.path} is an email's Approve or Reject link, opened without signing in: the handler checks the ` +
      'token in the path (HMAC-SHA256 with the key in Secrets Manager, bound to one draft, recipient and decision, expiring), ' +
      'that its channel is still enabled and lists the recipient, and single use; GET decides nothing. The stage throttle limits it.'
    );
  }
  if (route.roles.length === 0) {
    return (
      'The sign-in form must be reachable without credentials: the handler checks the submitted API key itself and ' +
      'locks a client out after repeated failures; the stage throttle limits the whole API.'
    );
  }
  const credential =
    auth === 'session'
      ? 'a page session cookie (a random token whose SHA-256 is looked up in the sessions table)'
      : 'a Bearer API key (looked up by SHA-256 in the apiKeys table)';
  return (
    `The ${route.function} handler authorizes every request: it requires ${credential} whose role is one of ` +
    `${route.roles.join(', ')}, per the route table in infra/app-definition.ts. A Lambda authorizer would repeat the same ` +
    'lookup in a second invocation.'
  );
}
