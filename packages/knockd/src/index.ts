/**
 * `@portknock/knockd`: the daemon's CLI. Its programmatic entry is `main(argv, io)`; the
 * detection, actions and sources it wires are the libraries (`@portknock/detector`,
 * `@portknock/engine`, `@portknock/logsource`, `@portknock/pcap`).
 */
export { main, USAGE } from "./main.ts";
export type { DaemonMainOptions } from "./main.ts";
export { KNOCKD_CODES } from "./codes.ts";
export type { KnockdCode } from "./codes.ts";
