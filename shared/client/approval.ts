/**
 * The framework-free core of `requireApproval` (./ai-sdk.ts, ./langchain.ts): turn one tool call
 * into a draft, wait for the decision, and say what the model should be told when the tool does not
 * run. It imports nothing but this package, so each framework wrapper stays a thin adapter.
 */
import { DecisionTimeoutError } from './errors.js';
import type { ProcessaClient } from './index.js';
import type { Draft, FieldProblem, MetadataValue } from './types.js';

export interface ApprovalOptions<ARGS = Record<string, unknown>> {
  /** A client made with an agent key. */
  client: ProcessaClient;
  /**
   * The draft's title: a template in which `{field}` is replaced by that argument's value (e.g.
   * `'Send email to {to}'`; `{tool}` is the tool's name), or a function of the arguments.
   * Default `'Run {tool}'`. Cut to the API's 200 characters.
   */
  title?: string | ((args: ARGS) => string);
  /** How long to wait for a person before the model is told that no one decided yet. Default 10 minutes. */
  timeoutMs?: number;
  /** Goes into the draft's metadata as `agent`, so reviewers see who asks. */
  agent?: string;
  /** Goes into the draft's metadata as `runId`, to find the agent run the call belongs to. */
  runId?: string;
  /** More flat metadata for the draft (`tool`, `agent`, `runId` and `toolCallId` are set by the wrapper). */
  metadata?: Record<string, MetadataValue>;
  /** Makes the draft expire (no longer decidable) this long after it is created; at least one minute. */
  expiresInMs?: number;
  /** waitForDecision's polling: first pause (default 1 s) and longest pause (default 10 s). */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
}

/** What the model receives instead of the tool's result when the tool did not run. */
export interface ApprovalOutcome {
  /** Always false: the tool did not run. */
  ran: false;
  approval: 'rejected' | 'expired' | 'timed_out';
  draftId: string;
  /** The reviewer's reason, on rejections (null when none was given). */
  reason?: string | null;
  /** One sentence for the model: what happened and that the tool did not run. */
  message: string;
}

export type Gate = { approval: 'approved'; draft: Draft; args: unknown } | ApprovalOutcome;

export interface ToolCallInfo {
  toolName: string;
  args: unknown;
  /** The framework's id of this tool call; it becomes the draft's Idempotency-Key. */
  toolCallId?: string;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** Throws a TypeError naming the option when the options cannot work (called once, at wrap time). */
export function checkApprovalOptions(options: ApprovalOptions<never> | undefined, where: string): void {
  const fail = (field: string, message: string) => {
    throw new TypeError(`${where}: options.${field} ${message}`);
  };
  if (!options || typeof options !== 'object') throw new TypeError(`${where}: options are required ({ client, ... })`);
  const client = options.client as unknown as { createDraft?: unknown; waitForDecision?: unknown } | undefined;
  if (typeof client?.createDraft !== 'function' || typeof client.waitForDecision !== 'function') fail('client', 'must be a ProcessaClient');
  if (options.title !== undefined && typeof options.title !== 'string' && typeof options.title !== 'function') fail('title', 'must be a string or a function');
  if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs >= 0)) fail('timeoutMs', 'must be a number ≥ 0');
  if (options.expiresInMs !== undefined && !(Number.isFinite(options.expiresInMs) && options.expiresInMs >= 60_000))
    fail('expiresInMs', 'must be at least 60000');
  for (const field of ['agent', 'runId'] as const) if (options[field] !== undefined && typeof options[field] !== 'string') fail(field, 'must be a string');
  if (options.metadata !== undefined && (typeof options.metadata !== 'object' || options.metadata === null)) fail('metadata', 'must be a flat object');
}

/** The title template filled with the call's arguments. */
export function draftTitle(template: ApprovalOptions<never>['title'], toolName: string, args: unknown): string {
  const fields = isPlainObject(args) ? args : {};
  const text =
    typeof template === 'function'
      ? String((template as (args: unknown) => string)(args))
      : (template ?? 'Run {tool}').replace(/\{([A-Za-z0-9_$.-]+)\}/g, (_, name: string) =>
          name === 'tool' ? toolName : name in fields ? scalarText(fields[name]) : `{${name}}`,
        );
  const title = text.trim() || `Run ${toolName}`;
  return title.length > 200 ? `${title.slice(0, 199)}…` : title;
}

/**
 * Creates the draft for one tool call (idempotently, keyed on the call id) and waits for the
 * decision. API errors (a bad key, a rejected title) are thrown: they are the builder's to fix.
 */
export async function awaitApproval(call: ToolCallInfo, options: ApprovalOptions<never>): Promise<Gate> {
  const { client } = options;
  const metadata: Record<string, MetadataValue> = { ...options.metadata, tool: call.toolName };
  if (options.agent !== undefined) metadata.agent = options.agent;
  if (options.runId !== undefined) metadata.runId = options.runId;
  if (call.toolCallId) metadata.toolCallId = call.toolCallId;
  const draft = await client.createDraft(
    {
      title: draftTitle(options.title, call.toolName, call.args),
      content: { tool: call.toolName, arguments: call.args },
      metadata,
      ...(options.expiresInMs !== undefined ? { expiresAt: new Date(Date.now() + options.expiresInMs) } : {}),
    },
    // A retry of the same tool call finds the same draft (and its decision) instead of asking twice.
    { idempotencyKey: call.toolCallId ? `tool-call:${call.toolName}:${call.toolCallId}` : undefined, signal: call.signal },
  );
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let decided: Draft;
  try {
    decided = await client.waitForDecision(draft.id, {
      timeoutMs,
      signal: call.signal,
      ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
      ...(options.maxPollIntervalMs !== undefined ? { maxPollIntervalMs: options.maxPollIntervalMs } : {}),
    });
  } catch (error) {
    if (!(error instanceof DecisionTimeoutError)) throw error;
    return {
      ran: false,
      approval: 'timed_out',
      draftId: draft.id,
      message:
        `No one decided on this ${call.toolName} call within ${formatDuration(timeoutMs)}, so the tool did not run. ` +
        `The request is still waiting for review (draft ${draft.id}); do not assume it happened.`,
    };
  }
  if (decided.status === 'approved') return { approval: 'approved', draft: decided, args: decided.content.arguments };
  if (decided.status === 'rejected') {
    const reason = decided.rejectionReason ?? null;
    return {
      ran: false,
      approval: 'rejected',
      draftId: decided.id,
      reason,
      message:
        `A person rejected this ${call.toolName} call, so the tool did not run. ` +
        (reason ? `Their reason: ${reason}` : 'They gave no reason.') +
        ' Change course accordingly; do not repeat the same call.',
    };
  }
  return {
    ran: false,
    approval: 'expired',
    draftId: decided.id,
    message: `This ${call.toolName} call's approval request expired before anyone decided, so the tool did not run.`,
  };
}

/** Whether a tool result is an ApprovalOutcome (the tool did not run). */
export function isApprovalOutcome(value: unknown): value is ApprovalOutcome {
  return (
    isPlainObject(value) && value.ran === false && ['rejected', 'expired', 'timed_out'].includes(value.approval as string) && typeof value.message === 'string'
  );
}

/** The approved arguments did not pass the tool's own schema: the tool did not run. */
export class ApprovedArgumentsInvalidError extends Error {
  constructor(
    readonly toolName: string,
    readonly fields: FieldProblem[],
    readonly draftId: string,
  ) {
    super(
      `The arguments a reviewer approved for ${toolName} do not fit the tool's input schema, so the tool did not run: ` +
        fields.map((problem) => `${problem.field}: ${problem.message}`).join('; '),
    );
    this.name = 'ApprovedArgumentsInvalidError';
  }
}

/**
 * The field problems in a validation failure, from whichever library produced it: zod 3 and 4
 * (`issues` with `path`), Standard Schema issues (an array, or an AI SDK TypeValidationError's
 * `cause`), JSON Schema validators (`instanceLocation` like `#/to`).
 */
export function fieldProblems(error: unknown): FieldProblem[] {
  const candidates = [error, (error as { cause?: unknown })?.cause];
  for (const candidate of candidates) {
    const issues = Array.isArray(candidate) ? candidate : (candidate as { issues?: unknown; errors?: unknown })?.issues;
    if (Array.isArray(issues) && issues.length > 0) return dedupe(issues.map(issueProblem));
  }
  const message = error instanceof Error ? error.message : String(error);
  return [{ field: '(arguments)', message }];
}

function issueProblem(issue: unknown): FieldProblem {
  const { path, message, instanceLocation, error } = (issue ?? {}) as { path?: unknown; message?: unknown; instanceLocation?: unknown; error?: unknown };
  let field = '';
  if (Array.isArray(path)) field = path.map((part) => String(typeof part === 'object' && part !== null && 'key' in part ? part.key : part)).join('.');
  else if (typeof instanceLocation === 'string') field = instanceLocation.replace(/^#\/?/, '').split('/').join('.');
  return { field: field || '(arguments)', message: String(message ?? error ?? 'invalid') };
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.field}\u0000${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The last value of a tool result that may be a stream of preliminary results (AI SDK, LangChain generators). */
export async function finalValue<T>(result: T | PromiseLike<T> | AsyncIterable<T>): Promise<T> {
  const awaited = await result;
  if (awaited !== null && typeof awaited === 'object' && Symbol.asyncIterator in awaited) {
    let last: T | undefined;
    for await (const value of awaited as AsyncIterable<T>) last = value;
    return last as T;
  }
  return awaited as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalarText(value: unknown): string {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
