/**
 * The logging interface every portknock library accepts (STYLE.md §8). A pino logger satisfies it.
 * Libraries never call `console`; they default to `noopLogger`.
 */
export interface Logger {
  debug(fields: object, msg?: string): void;
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
  child(bindings: object): Logger;
}

/** A logger that drops everything: the default for libraries. */
export const noopLogger: Logger = {
  debug(): void {},
  info(): void {},
  warn(): void {},
  error(): void {},
  child(): Logger {
    return noopLogger;
  },
};
