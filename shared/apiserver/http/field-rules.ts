import { BadRequestError, cause } from '../../model/errors.js';
import { isPlainObject } from '../../model/json.js';
import { catalogKeyOf, typeByKindName, typeForKind, type ResourceType } from '../../model/kinds.js';
import { checkFields, type FieldValidation } from '../../model/schemas/field-validation.js';

const MODES: readonly FieldValidation[] = ['Ignore', 'Warn', 'Strict'];

/** One request's `fieldValidation`: applied to each body it writes, with the warnings it earns (and those of kinds kumo does not act on). */
export class FieldRules {
  private readonly mode: FieldValidation;
  private readonly warnings: string[] = [];

  constructor(param: string | null) {
    if (param !== null && param !== '' && !MODES.includes(param as FieldValidation))
      throw new BadRequestError(
        `fieldValidation: Unsupported value: ${JSON.stringify(param)}: supported values: "Ignore", "Warn", "Strict"`,
        [cause.notSupported('fieldValidation', param, MODES)],
      );
    // The kube-apiserver's default when a client does not say: drop unknown fields and warn.
    this.mode = (param || 'Warn') as FieldValidation;
  }

  /** The body with unknown fields dropped; 400 under Strict when there are any. */
  apply(type: ResourceType, body: unknown): unknown {
    this.written(type);
    const { pruned, unknown } = checkFields(catalogKeyOf(type), body);
    if (unknown.length === 0) return body;
    if (this.mode === 'Strict')
      throw new BadRequestError(
        `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`,
      );
    if (this.mode === 'Warn') this.warnings.push(...unknown.map((u) => `unknown field "${u}"`));
    return pruned;
  }

  /** A write of `type` whose body is not a body of fields (a JSON patch): it earns the kind's warning all the same. */
  written(type: ResourceType): void {
    // A kind stored but not acted on says so with every write, whatever the field validation.
    if (type.notEnforced && !this.warnings.includes(type.notEnforced)) this.warnings.push(type.notEnforced);
  }

  /** A document of a multi-document apply, by its own kind (unknown kinds are the applier's to report). */
  applyToDocument(doc: unknown): unknown {
    if (!isPlainObject(doc) || typeof doc.kind !== 'string') return doc;
    const t = typeof doc.apiVersion === 'string' ? typeForKind(doc.apiVersion, doc.kind) : typeByKindName(doc.kind);
    return t ? this.apply(t, doc) : doc;
  }

  /** RFC 7234 warnings as the kube-apiserver sends them (`299 - "…"`), comma-joined into one header. */
  warningHeader(): string | undefined {
    if (this.warnings.length === 0) return undefined;
    return this.warnings.map((w) => `299 - ${JSON.stringify(headerSafe(w))}`).join(', ');
  }
}

/**
 * A header value must be ASCII here: Node and API Gateway refuse anything above U+00FF (a field named
 * `spec.日本` made the whole reply a 500 after the object was stored). The kube-apiserver sends the
 * UTF-8 bytes raw; the nearest that every hop carries is percent-encoding of the non-ASCII bytes
 * (`spec.%E6%97%A5%E6%9C%AC`), with control characters encoded the same way.
 */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, (run) =>
    [...Buffer.from(run, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}
