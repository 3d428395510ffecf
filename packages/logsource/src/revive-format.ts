/**
 * A compiled `<logformat>` as a replay worker receives it (replay-worker.ts): the structured
 * clone keeps a `LinearRegex`'s source only, so each is compiled again. Loaded by a worker only
 * when its job has such a format.
 */
import type { CompiledLogFormat } from "./log-format.ts";
import { reviveLineRegex } from "./user-regex.ts";

/** `format` with every regex usable again (see `reviveLineRegex`). */
export function reviveLogFormat(format: CompiledLogFormat): CompiledLogFormat {
  const maybe = (r: CompiledLogFormat["required"]) =>
    r === undefined ? undefined : reviveLineRegex(r);
  return {
    ...format,
    required: maybe(format.required),
    interface: maybe(format.interface),
    protocol: maybe(format.protocol),
    ipserver: maybe(format.ipserver),
    ipclient: reviveLineRegex(format.ipclient),
    port: reviveLineRegex(format.port),
    srcport: maybe(format.srcport),
  };
}
