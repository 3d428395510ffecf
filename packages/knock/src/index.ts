export { main } from "./main.ts";
export type { MainOptions } from "./main.ts";
export { parseArgs } from "./argv.ts";
export type { ParsedArgs, ParseArgsResult } from "./argv.ts";
export { sendKnock } from "./send.ts";
export type { SendOptions, SendReport } from "./send.ts";
export { localAddressFor } from "./local-address.ts";
export {
  formatLogLine,
  defaultFileFormat,
  syslogDate,
  DEFAULT_TCP_FORMAT,
  DEFAULT_UDP_FORMAT,
  DEFAULT_TCP6_FORMAT,
  DEFAULT_UDP6_FORMAT,
} from "./log-line.ts";
export type { LogLineValues } from "./log-line.ts";
