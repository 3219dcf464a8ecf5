import winston from 'winston';
import type { Logger } from '../knowledge/ports/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** winston JSON lines on stderr, so stdout stays for command output. */
export function createLogger(level: LogLevel = 'info'): Logger {
  const base = winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['debug', 'info', 'warn', 'error'] })],
  });
  return wrap(base);
}

function wrap(w: winston.Logger): Logger {
  return {
    debug: (message, fields) => void w.debug(message, fields),
    info: (message, fields) => void w.info(message, fields),
    warn: (message, fields) => void w.warn(message, fields),
    error: (message, fields) => void w.error(message, fields),
    child: (fields) => wrap(w.child(fields)),
  };
}
