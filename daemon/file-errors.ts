/**
 * Why a file could not be opened, in words: `no such file or directory` rather than Node's
 * `ENOENT: no such file or directory, open 'x.yaml'`, whose code and repeated path add nothing
 * to a message that names the file already.
 */
export function describeFileError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^E[A-Z]+: /, '').replace(/, \w+ '[^']*'$/, '');
}
