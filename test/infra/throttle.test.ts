import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { routeKey, routes, streamConsumer } from '../../infra/app-definition.js';
import { configFromContext } from '../../infra/stacks/context.js';
import { ProcessaStack } from '../../infra/stacks/processa-stack.js';
import { DEFAULT_API_THROTTLE, resolveApiThrottle, ROUTE_THROTTLE_GROUPS, THROTTLE_GROUPS } from '../../infra/stacks/throttle.js';

// The template is plain JSON; `any` keeps the walking code short.
type Json = any;

let outdir: string;
beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'processa-throttle-'));
});
afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/** A stack synthesized without bundling from `context`, as `cdk deploy -c key=value` gives it (strings). */
let synths = 0;
const synthWith = (context: Record<string, string>) => {
  const app = new App({ outdir: join(outdir, `s${synths++}`), context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const config = configFromContext(app.node);
  return new ProcessaStack(app, config.stackName, config.props);
};
const stageOf = (stack: ProcessaStack): Json => {
  const stages = Object.entries(Template.fromStack(stack).toJSON().Resources as Record<string, Json>).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Stage');
  expect(stages).toHaveLength(1);
  return stages[0]![1];
};

describe('API stage throttle from context', () => {
  it('every throttle group names routes that exist, each in one group only', () => {
    const known = new Set(routes.map(routeKey));
    const grouped = THROTTLE_GROUPS.flatMap((g) => [...ROUTE_THROTTLE_GROUPS[g]]);
    expect(grouped.filter((key) => !known.has(key))).toEqual([]);
    expect(new Set(grouped).size).toBe(grouped.length);
  });

  it('defaults to today: 50 requests/s, burst 100 for the whole stage, no route set apart', () => {
    expect(DEFAULT_API_THROTTLE).toEqual({ rateLimit: 50, burstLimit: 100 });
    const stage = stageOf(synthWith({}));
    expect(stage.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    expect(stage.Properties.RouteSettings).toBeUndefined();
  });

  it('apiRateLimit / apiBurstLimit set the stage default; <group>…Limit set that group apart (the other value from the stage)', () => {
    const stack = synthWith({
      apiRateLimit: '2500',
      apiBurstLimit: '5000',
      createDraftRateLimit: '1500.5',
      createDraftBurstLimit: '3000',
      signInRateLimit: '5',
      emailDecisionsBurstLimit: '20',
    });
    const stage = stageOf(stack);
    expect(stage.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 2500, ThrottlingBurstLimit: 5000 });
    expect(stage.Properties.RouteSettings).toEqual({
      'POST /v1/drafts': { ThrottlingRateLimit: 1500.5, ThrottlingBurstLimit: 3000 },
      'POST /review/login': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 5000 },
      'POST /email-decisions/{token}': { ThrottlingRateLimit: 2500, ThrottlingBurstLimit: 20 },
    });
    // API Gateway refuses settings for a route it does not have yet: the stage is created after those routes.
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
    const routeIdsByKey = new Map(
      Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Route')
        .map(([id, r]) => [r.Properties.RouteKey as string, id]),
    );
    for (const key of Object.keys(stage.Properties.RouteSettings as object)) expect(stage.DependsOn).toContain(routeIdsByKey.get(key));
  });

  it('a group of several routes sets each of them', () => {
    const stage = stageOf(synthWith({ decideDraftRateLimit: '200', decideDraftBurstLimit: '400' }));
    expect(Object.keys(stage.Properties.RouteSettings as object).sort()).toEqual(['POST /v1/drafts/{id}/approve', 'POST /v1/drafts/{id}/reject']);
  });

  it.each([
    ['apiRateLimit', '0'],
    ['apiRateLimit', '-5'],
    ['apiRateLimit', 'fast'],
    ['apiBurstLimit', '0'],
    ['apiBurstLimit', '2.5'],
    ['apiBurstLimit', 'lots'],
    ['createDraftBurstLimit', '0'],
    ['signInRateLimit', 'Infinity'],
    ['slackInteractionsBurstLimit', '1.5'],
  ])('rejects a %s context of %s, naming it', (key, value) => {
    expect(() => synthWith({ [key]: value })).toThrow(new RegExp(`^${key} must be`));
  });

  it('resolveApiThrottle names the key for direct construction too', () => {
    expect(() => resolveApiThrottle({ routes: { reviewDecisions: { burstLimit: 0 } } })).toThrow(/reviewDecisionsBurstLimit/);
    expect(resolveApiThrottle()).toEqual({ stage: DEFAULT_API_THROTTLE, routes: {} });
  });
});

describe('drafts stream fan-out parallelization', () => {
  it("the stream mapping takes the definition's parallelizationFactor (1–10)", () => {
    expect(streamConsumer.parallelizationFactor).toBeGreaterThanOrEqual(1);
    expect(streamConsumer.parallelizationFactor).toBeLessThanOrEqual(10);
    const mappings = Object.values(Template.fromStack(synthWith({})).toJSON().Resources as Record<string, Json>).filter(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties.StartingPosition,
    );
    expect(mappings.map((m) => m.Properties.ParallelizationFactor)).toEqual([streamConsumer.parallelizationFactor]);
  });
});
