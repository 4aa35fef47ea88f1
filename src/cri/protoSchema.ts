/**
 * The shape of the relay's message tables (criSchema.generated.ts): one entry per field, as the proto declares it.
 */

/** A field's label: 0 singular, 1 repeated, 2 map<string, type>. */
export type FieldLabel = 0 | 1 | 2;

/** One field: its name, number, type (a scalar, "enum", or a message's proto name) and label. */
export type FieldSpec = readonly [name: string, number: number, type: string, label: FieldLabel];

/** A message: its fields in declaration order. */
export type MessageSchema = readonly FieldSpec[];
