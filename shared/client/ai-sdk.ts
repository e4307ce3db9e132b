/**
 * `@processa/client/ai-sdk`: put a person's approval in front of a Vercel AI SDK tool.
 * Needs the `ai` package (an optional peer dependency: only this entry point imports it).
 *
 *   const tools = {
 *     send_email: requireApproval(sendEmail, { client: processa, name: 'send_email', title: 'Send email to {to}' }),
 *   };
 *
 * When the model calls the tool, a draft is created and the call waits for the decision:
 * approved → the tool runs with the approved (possibly edited) arguments, checked again by the
 * tool's own input schema; rejected, expired or no decision in time → the tool does not run and
 * the model gets an ApprovalOutcome saying so (with the reviewer's reason). Arguments a reviewer
 * edited into something the schema refuses fail the call with an error naming the fields.
 */
import { asSchema, type Tool, type ToolExecutionOptions } from 'ai';
import {
  ApprovedArgumentsInvalidError,
  awaitApproval,
  checkApprovalOptions,
  fieldProblems,
  finalValue,
  isApprovalOutcome,
  type ApprovalOptions,
  type ApprovalOutcome,
} from './approval.js';

export { ApprovedArgumentsInvalidError, isApprovalOutcome, type ApprovalOptions, type ApprovalOutcome } from './approval.js';

export interface AiSdkApprovalOptions<INPUT> extends ApprovalOptions<INPUT> {
  /** The tool's name as the model sees it (its key in `tools`): AI SDK tools do not carry one. */
  name: string;
}

/** The same tool, whose `execute` first waits for a person's approval. */
export function requireApproval<INPUT, OUTPUT, CONTEXT>(
  tool: Tool<INPUT, OUTPUT, CONTEXT>,
  options: AiSdkApprovalOptions<NoInfer<INPUT>>,
): Tool<INPUT, OUTPUT | ApprovalOutcome, CONTEXT> {
  checkApprovalOptions(options as ApprovalOptions<never>, 'requireApproval');
  if (typeof options.name !== 'string' || !options.name) throw new TypeError('requireApproval: options.name must be the tool name the model calls');
  const execute = (tool as { execute?: (input: INPUT, options: ToolExecutionOptions<CONTEXT>) => unknown }).execute;
  if (typeof execute !== 'function') throw new TypeError('requireApproval: the tool has no execute function, so there is nothing to approve');
  const name = options.name;
  const schema = asSchema(tool.inputSchema);
  const toModelOutput = (tool as { toModelOutput?: (arg: { toolCallId: string; input: unknown; output: unknown }) => unknown }).toModelOutput;

  const wrapped = {
    ...tool,
    async execute(input: INPUT, executionOptions: ToolExecutionOptions<CONTEXT>): Promise<OUTPUT | ApprovalOutcome> {
      const gate = await awaitApproval(
        { toolName: name, args: input, toolCallId: executionOptions.toolCallId, signal: executionOptions.abortSignal },
        options as ApprovalOptions<never>,
      );
      if (gate.approval !== 'approved') return gate;
      // A reviewer's edit wins, but only if the tool itself accepts it.
      const checked = schema.validate ? await schema.validate(gate.args) : { success: true as const, value: gate.args as INPUT };
      // Thrown, the SDK hands the model a tool error; the tool has not run.
      if (!checked.success) throw new ApprovedArgumentsInvalidError(name, fieldProblems(checked.error), gate.draft.id);
      return finalValue(execute.call(tool, checked.value, executionOptions) as OUTPUT | PromiseLike<OUTPUT> | AsyncIterable<OUTPUT>);
    },
    // The tool's own toModelOutput is for its own results, not for "it did not run".
    ...(toModelOutput
      ? {
          toModelOutput: (arg: { toolCallId: string; input: unknown; output: unknown }) =>
            isApprovalOutcome(arg.output) ? { type: 'json', value: arg.output } : toModelOutput.call(tool, arg),
        }
      : {}),
  };
  return wrapped as unknown as Tool<INPUT, OUTPUT | ApprovalOutcome, CONTEXT>;
}
