import type { StatusCause } from './api-errors.js';

/**
 * The apiserver's field errors and the name rules behind them, with its wording, so a client
 * that shows `details.causes` shows what a real cluster says.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
 */
export const fieldError = {
  invalid: (field: string, value: unknown, detail: string): StatusCause => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${quote(value)}: ${detail}`, field }),
  required: (field: string, detail?: string): StatusCause => ({ reason: 'FieldValueRequired', message: detail === undefined ? 'Required value' : `Required value: ${detail}`, field }),
  notSupported: (field: string, value: unknown, supported: readonly string[]): StatusCause => ({
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${quote(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
    field,
  }),
  duplicate: (field: string, value: unknown): StatusCause => ({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${quote(value)}`, field }),
  notFound: (field: string, value: unknown): StatusCause => ({ reason: 'FieldValueNotFound', message: `Not found: ${quote(value)}`, field }),
};

function quote(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
}

const dns1123LabelPattern = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123SubdomainPattern = `${dns1123LabelPattern}(\\.${dns1123LabelPattern})*`;
const qualifiedNamePattern = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelValuePattern = `(${qualifiedNamePattern})?`;
const envVarNamePattern = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const configKeyPattern = '[-._a-zA-Z0-9]+';

function whole(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** Problems with `value` as a DNS-1123 subdomain (most object names); empty when it is one. */
export function dns1123SubdomainProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 253) problems.push('must be no more than 253 characters');
  if (!whole(dns1123SubdomainPattern).test(value)) {
    problems.push(
      `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${dns1123SubdomainPattern}')`,
    );
  }
  return problems;
}

/** Problems with `value` as a DNS-1123 label (namespaces, container and volume names). */
export function dns1123LabelProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push('must be no more than 63 characters');
  if (!whole(dns1123LabelPattern).test(value)) {
    problems.push(
      `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${dns1123LabelPattern}')`,
    );
  }
  return problems;
}

/** Problems with a label or annotation key: an optional DNS subdomain prefix, '/', a name of at most 63. */
export function qualifiedNameProblems(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) {
    return [`a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${qualifiedNamePattern}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const name = parts.length === 2 ? (parts[1] ?? '') : value;
  const problems: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix.length === 0) problems.push('prefix part must be non-empty');
    else problems.push(...dns1123SubdomainProblems(prefix).map((p) => `prefix part ${p}`));
  }
  if (name.length === 0) problems.push('name part must be non-empty');
  else if (name.length > 63) problems.push('name part must be no more than 63 characters');
  if (name.length > 0 && !whole(qualifiedNamePattern).test(name)) {
    problems.push(`name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${qualifiedNamePattern}')`);
  }
  return problems;
}

export function labelValueProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push('must be no more than 63 characters');
  if (!whole(labelValuePattern).test(value)) {
    problems.push(`a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '${labelValuePattern}')`);
  }
  return problems;
}

export function envVarNameProblems(value: string): string[] {
  return whole(envVarNamePattern).test(value) && !/^[0-9]/.test(value)
    ? []
    : [`a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '${envVarNamePattern}')`];
}

/** Keys of a Secret's data, which become file names in its volume. */
export function configKeyProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 253) problems.push('must be no more than 253 characters');
  if (!whole(configKeyPattern).test(value)) problems.push(`a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '${configKeyPattern}')`);
  return problems;
}

/** Label keys and values of `labels` at `field` (metadata.labels, a template's labels, a selector). */
export function labelCauses(labels: Readonly<Record<string, string>> | undefined, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    for (const problem of qualifiedNameProblems(key)) causes.push(fieldError.invalid(field, key, problem));
    for (const problem of labelValueProblems(String(value))) causes.push(fieldError.invalid(field, value, problem));
  }
  return causes;
}
