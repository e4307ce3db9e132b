import { Ajv2020 } from 'ajv/dist/2020.js';

type Spec = { components: { schemas: Record<string, unknown>; responses?: Record<string, unknown>; parameters?: Record<string, unknown> } };

/** Follows a local $ref (#/components/…) of the document, if the object is one. */
export function resolved<T = any>(spec: Spec, object: unknown): T {
  const ref = (object as { $ref?: string } | undefined)?.$ref;
  if (!ref) return object as T;
  if (!ref.startsWith('#/')) throw new Error(`Not a local reference: ${ref}`);
  return resolved(
    spec,
    ref
      .slice(2)
      .split('/')
      .reduce<any>((node, part) => node?.[part], spec),
  );
}

/**
 * Validates values against schemas of an OpenAPI 3.1 document, whose $refs point into
 * #/components/schemas: each schema is compiled with the document's components beside it.
 */
export function schemaValidator(spec: Spec) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  return (schema: unknown, value: unknown): string | undefined => {
    const validate = ajv.compile({ ...(schema as object), components: { schemas: spec.components.schemas } });
    return validate(value) ? undefined : ajv.errorsText(validate.errors);
  };
}
