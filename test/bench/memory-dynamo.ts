/**
 * DynamoDB answered in-process, for the worker bench's "store stubbed" phase: a middleware on the
 * shared documentClient() that answers GetItem, BatchGetItem, PutItem, UpdateItem, DeleteItem,
 * BatchWriteItem and Query from a Map, evaluating the condition and update expressions the
 * handlers use (comparisons, AND/OR/NOT, attribute_exists/attribute_not_exists/begins_with,
 * SET with if_not_exists and +, ADD, REMOVE), so conditional writes fail as DynamoDB's would.
 * Top-level attributes only; nothing here is product code.
 */
import { ConditionalCheckFailedException, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

type Item = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, unknown> | undefined;

interface TableShape {
  keys: string[];
  items: Map<string, Item>;
}

export interface MemoryDynamo {
  /** Answer calls in-process while true; otherwise they go to DynamoDB Local untouched. */
  active: boolean;
  /** Copies these items in (e.g. the endpoint, read from DynamoDB Local before the phase). */
  seed(tableName: string, items: Item[]): void;
  clear(): void;
}

/** Installs the middleware (once) on `client`; table key schemas are read from `raw` up front. */
export async function memoryDynamo(client: DynamoDBDocumentClient, raw: DynamoDBClient, tableNames: string[]): Promise<MemoryDynamo> {
  const tables = new Map<string, TableShape>();
  for (const name of tableNames) {
    const { Table } = await raw.send(new DescribeTableCommand({ TableName: name }));
    tables.set(name, { keys: (Table?.KeySchema ?? []).map((k) => k.AttributeName!), items: new Map() });
  }
  const table = (name: unknown) => {
    const found = tables.get(String(name));
    if (!found) throw new Error(`memory DynamoDB: unknown table ${String(name)}`);
    return found;
  };
  const keyOf = (shape: TableShape, item: Item) => JSON.stringify(shape.keys.map((k) => item[k]));
  const state: MemoryDynamo = {
    active: false,
    seed(tableName, items) {
      const shape = table(tableName);
      for (const item of items) shape.items.set(keyOf(shape, item), structuredClone(item));
    },
    clear() {
      for (const shape of tables.values()) shape.items.clear();
    },
  };

  const answer = (command: string, input: Item): Item => {
    switch (command) {
      case 'GetItemCommand': {
        const shape = table(input.TableName);
        const item = shape.items.get(keyOf(shape, input.Key as Item));
        return item ? { Item: structuredClone(item) } : {};
      }
      case 'BatchGetItemCommand': {
        const responses: Record<string, Item[]> = {};
        for (const [name, request] of Object.entries(input.RequestItems as Record<string, { Keys: Item[] }>)) {
          const shape = table(name);
          responses[name] = request.Keys.map((k) => shape.items.get(keyOf(shape, k)))
            .filter((i): i is Item => i !== undefined)
            .map((i) => structuredClone(i));
        }
        return { Responses: responses, UnprocessedKeys: {} };
      }
      case 'PutItemCommand': {
        const shape = table(input.TableName);
        const item = input.Item as Item;
        const key = keyOf(shape, item);
        check(input, shape.items.get(key));
        shape.items.set(key, structuredClone(item));
        return {};
      }
      case 'DeleteItemCommand': {
        const shape = table(input.TableName);
        const key = keyOf(shape, input.Key as Item);
        const old = shape.items.get(key);
        check(input, old);
        shape.items.delete(key);
        return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
      }
      case 'UpdateItemCommand': {
        const shape = table(input.TableName);
        const key = keyOf(shape, input.Key as Item);
        const old = shape.items.get(key);
        check(input, old);
        const next = applyUpdate(
          { ...(old ?? {}), ...(input.Key as Item) },
          String(input.UpdateExpression),
          input.ExpressionAttributeNames as Names,
          input.ExpressionAttributeValues as Values,
        );
        shape.items.set(key, next);
        return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(next) } : {};
      }
      case 'BatchWriteItemCommand': {
        for (const [name, requests] of Object.entries(
          input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>>,
        )) {
          const shape = table(name);
          for (const r of requests) {
            if (r.PutRequest) shape.items.set(keyOf(shape, r.PutRequest.Item), structuredClone(r.PutRequest.Item));
            else if (r.DeleteRequest) shape.items.delete(keyOf(shape, r.DeleteRequest.Key));
          }
        }
        return { UnprocessedItems: {} };
      }
      case 'QueryCommand': {
        // Only what the delivery path could ask (the endpoint snapshot, counts): a filter over the table, no index or paging.
        const shape = table(input.TableName);
        const names = input.ExpressionAttributeNames as Names;
        const values = input.ExpressionAttributeValues as Values;
        const items = [...shape.items.values()].filter(
          (item) =>
            evaluate(String(input.KeyConditionExpression), item, names, values) &&
            (input.FilterExpression === undefined || evaluate(String(input.FilterExpression), item, names, values)),
        );
        return input.Select === 'COUNT' ? { Count: items.length } : { Items: items.map((i) => structuredClone(i)), Count: items.length };
      }
      default:
        throw new Error(`memory DynamoDB: ${command} is not answered in-process`);
    }
  };

  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!state.active) return next(args);
      const output = answer(String(context.commandName), args.input as Item);
      return { output: { ...output, $metadata: {} }, response: {} } as never;
    },
    // After the bench's call counter (same step, lower priority): calls are still counted.
    { step: 'initialize', priority: 'low', name: 'processaBenchMemoryDynamo' },
  );
  return state;
}

function check(input: Item, current: Item | undefined): void {
  if (input.ConditionExpression === undefined) return;
  const ok = evaluate(String(input.ConditionExpression), current ?? {}, input.ExpressionAttributeNames as Names, input.ExpressionAttributeValues as Values);
  if (!ok)
    throw new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      // As DynamoDB: the item as it was, when asked for (only whether there is one matters to the stores), marshalled.
      ...(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && current ? { Item: marshall(current) } : {}),
    });
}

// ---- expressions ----

const TOKEN = /\s*(<>|<=|>=|[=<>(),+-]|[#:]?[A-Za-z_][A-Za-z0-9_]*)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`memory DynamoDB: cannot read expression ${text}`);
    tokens.push(m[1]!);
  }
  return tokens;
}

const UNSET = Symbol('unset');

function operand(token: string, item: Item, names: Names, values: Values): unknown {
  if (token.startsWith(':')) return values?.[token];
  const name = token.startsWith('#') ? names?.[token] : token;
  if (name === undefined) throw new Error(`memory DynamoDB: no name for ${token}`);
  return name in item ? item[name] : UNSET;
}
const attrName = (token: string, names: Names) => (token.startsWith('#') ? names![token]! : token);

function compare(a: unknown, op: string, b: unknown): boolean {
  if (a === UNSET || b === UNSET) return op === '<>' ? true : false;
  if (op === '=') return a === b;
  if (op === '<>') return a !== b;
  if (typeof a !== typeof b) return false;
  const x = a as number | string;
  const y = b as number | string;
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

/** Condition / key-condition / filter expressions: OR, AND, NOT, parentheses, comparisons, BETWEEN-free. */
export function evaluate(text: string, item: Item, names: Names, values: Values): boolean {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (expected !== undefined && t?.toUpperCase() !== expected) throw new Error(`memory DynamoDB: expected ${expected} in ${text}`);
    return t!;
  };
  const or = (): boolean => {
    let v = and();
    while (peek()?.toUpperCase() === 'OR') {
      take();
      const r = and();
      v = v || r;
    }
    return v;
  };
  const and = (): boolean => {
    let v = not();
    while (peek()?.toUpperCase() === 'AND') {
      take();
      const r = not();
      v = v && r;
    }
    return v;
  };
  const not = (): boolean => {
    if (peek()?.toUpperCase() === 'NOT') {
      take();
      return !not();
    }
    return primary();
  };
  const primary = (): boolean => {
    const t = take();
    if (t === '(') {
      const v = or();
      take(')');
      return v;
    }
    const fn = t.toLowerCase();
    if (fn === 'attribute_exists' || fn === 'attribute_not_exists' || fn === 'begins_with') {
      take('(');
      const path = take();
      let v: boolean;
      if (fn === 'begins_with') {
        take(',');
        const prefix = operand(take(), item, names, values);
        const value = operand(path, item, names, values);
        v = typeof value === 'string' && typeof prefix === 'string' && value.startsWith(prefix);
      } else {
        const exists = operand(path, item, names, values) !== UNSET;
        v = fn === 'attribute_exists' ? exists : !exists;
      }
      take(')');
      return v;
    }
    const op = take();
    const right = take();
    return compare(operand(t, item, names, values), op, operand(right, item, names, values));
  };
  const result = or();
  if (i !== tokens.length) throw new Error(`memory DynamoDB: unread tokens in ${text}`);
  return result;
}

/** SET (a = v, a = if_not_exists(a, v), a = x + y), ADD a n, REMOVE a, b. */
export function applyUpdate(before: Item, text: string, names: Names, values: Values): Item {
  const item = structuredClone(before);
  const tokens = tokenize(text);
  let i = 0;
  const value = (): unknown => {
    const t = tokens[i++]!;
    let v: unknown;
    if (t.toLowerCase() === 'if_not_exists') {
      i++; // (
      const existing = operand(tokens[i++]!, before, names, values);
      i++; // ,
      const fallback = value();
      i++; // )
      v = existing === UNSET ? fallback : existing;
    } else {
      v = operand(t, before, names, values);
    }
    if (tokens[i] === '+' || tokens[i] === '-') {
      const op = tokens[i++];
      const right = value() as number;
      v = op === '+' ? (v as number) + right : (v as number) - right;
    }
    return v;
  };
  while (i < tokens.length) {
    const clause = tokens[i++]!.toUpperCase();
    do {
      if (tokens[i] === ',') i++;
      const path = attrName(tokens[i++]!, names);
      if (clause === 'SET') {
        i++; // =
        item[path] = value();
      } else if (clause === 'ADD') {
        const n = operand(tokens[i++]!, before, names, values) as number;
        item[path] = (typeof item[path] === 'number' ? (item[path] as number) : 0) + n;
      } else if (clause === 'REMOVE') {
        delete item[path];
      } else {
        throw new Error(`memory DynamoDB: ${clause} is not supported`);
      }
    } while (tokens[i] === ',');
  }
  return item;
}
