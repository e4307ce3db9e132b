/**
 * A function's environment, built from the definition alone: the variables of the tables and
 * queues it is bound to and of the settings it reads, nothing else. The stack (infra/stacks)
 * and the local runtime (infra/local) both build it here, so a handler that reads a variable it
 * is not given fails locally exactly as it would at cold start on AWS. Pure: no CDK or SDK.
 */
import {
  functions,
  queues,
  settings,
  tables,
  type FunctionDefinition,
  type FunctionName,
  type QueueName,
  type SettingName,
  type TableName,
} from './app-definition.js';

const definitionOf = (name: FunctionName): FunctionDefinition => functions[name];

const boundTables = (name: FunctionName): TableName[] => Object.keys(definitionOf(name).tables) as TableName[];
const boundQueues = (name: FunctionName): QueueName[] => Object.keys(definitionOf(name).queues ?? {}) as QueueName[];
const boundSettings = (name: FunctionName): SettingName[] =>
  (Object.keys(settings) as SettingName[]).filter((setting) => (settings[setting].functions as readonly FunctionName[]).includes(name));

/** The value of each setting where it is set; a setting left undefined is not set at all. */
export type SettingValues = Partial<Record<SettingName, string | undefined>>;

export interface EnvironmentSources<T> {
  /** A table's physical name (a token in the stack, a string locally). */
  table: (name: TableName) => T;
  queue: (name: QueueName) => T;
  settings: SettingValues;
}

/** The function's own variables: bound tables and queues, and the settings it reads that have a value. */
export function functionEnvironment<T>(name: FunctionName, sources: EnvironmentSources<T>): Record<string, T | string> {
  const env: Record<string, T | string> = {};
  for (const table of boundTables(name)) env[tables[table].envVar] = sources.table(table);
  for (const queue of boundQueues(name)) env[queues[queue].envVar] = sources.queue(queue);
  for (const setting of boundSettings(name)) {
    const value = sources.settings[setting];
    if (value !== undefined) env[settings[setting].envVar] = value;
  }
  return env;
}

/** Only the settings part, for the stack (whose bindTable/bindQueue set the table and queue variables with their grants). */
export function settingsEnvironment(name: FunctionName, values: SettingValues): Record<string, string> {
  const env: Record<string, string> = {};
  for (const setting of boundSettings(name)) {
    const value = values[setting];
    if (value !== undefined) env[settings[setting].envVar] = value;
  }
  return env;
}

/** Every variable the definition hands out per function: tables, queues and settings. */
export const definedVariables = (): string[] => [
  ...Object.values(tables).map((t) => t.envVar),
  ...Object.values(queues).map((q) => q.envVar),
  ...Object.values(settings).map((s) => s.envVar),
];
