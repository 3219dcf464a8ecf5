import type { z } from 'zod';
import { DynamosError } from './errors.js';

/** One thing wrong with an input, located by a path such as `dataStewards.UVA.archetypes[2]`. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Renders a property path the way a reader would write it in JavaScript. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && identifier.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(root)' : out;
}

/** Every issue of a zod error as a Problem; an unknown key is reported at its own path. */
export function problemsFromZod(error: z.ZodError): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}

export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}

/**
 * Parses settings with their schema, or refuses them the project's one way: every problem with its
 * path, so a user fixes them all at once instead of meeting a raw ZodError.
 * @param what names the settings in the message, e.g. `the daemon config`
 * @throws DynamosError CONFIG_INVALID with `details.problems`
 */
export function parseSettings<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = problemsFromZod(parsed.error);
  throw new DynamosError('CONFIG_INVALID', `${what} is invalid:\n${describeProblems(problems)}`, { retryable: false, details: { problems } });
}
