/** Construct ids and output names derived from the definition's camelCase keys. */

/** apiKeys → ApiKeys */
export const pascalCase = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

/** drafts → DraftsTable (also the stack output prefix: DraftsTableName). */
export const tableId = (name: string): string => `${pascalCase(name)}Table`;

/** deliveries → DeliveriesQueue, deliveriesDlq → DeliveriesDlq (no "DlqQueue"). */
export const queueId = (name: string): string => (/Dlq$/.test(name) ? pascalCase(name) : `${pascalCase(name)}Queue`);
