/**
 * A reader that stops reading (`dynamos check-config … | head -1`, `dynamos token … | head -c1`)
 * is not a failure: Unix tools end quietly on SIGPIPE, and so do we on EPIPE, with the status the
 * command had (0 unless it had failed). A daemon (`serve`, which listens for SIGTERM) shuts down
 * as on SIGTERM, so its job processes end with it. Any other error of these streams also ends the
 * command, with status 1: there is nowhere left to say why.
 */
export function endQuietlyWhenReaderLeaves(streams: readonly NodeJS.WriteStream[]): void {
  let ending = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (ending) return; // every later write fails the same way; the first decides
    ending = true;
    if (error.code !== 'EPIPE') process.exit(1);
    if (process.listenerCount('SIGTERM') > 0) process.kill(process.pid, 'SIGTERM');
    else process.exit();
  };
  for (const stream of streams) stream.on('error', onError);
}
