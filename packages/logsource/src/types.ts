/**
 * The data a log source produces (spec: daemon.md §1): lines read from a file or a command, and
 * the knock hits decoded from them.
 */

/** One line of a log, without its line terminator (`\n` or `\r\n`). */
export interface LogLine {
  /** The line's text, decoded as UTF-8 (invalid bytes become U+FFFD). */
  text: string;
  /** The file it came from, or the command's name (`journalctl`) for `runLogCommand`. */
  file: string;
  /**
   * 1-based line number. `followLog`: lines since the follower started on this file (it starts at
   * the end, so the first new line is 1) and restarted at 1 after each rotation, truncation or
   * re-creation, when reading starts again at byte 0 (so from then on it is the line's number in
   * the file). `readLogFile`: the line's number in the file. `runLogCommand`: lines since the
   * source started, across restarts of the command.
   */
  lineNo: number;
}

/** A packet the firewall logged: one port of a possible knock (spec: daemon.md §1). */
export interface KnockHit {
  /** Source address: dotted quad, or IPv6 in canonical compressed form (RFC 5952). */
  srcIp: string;
  /** Destination port, 0–65535. */
  dstPort: number;
  /** Lower-case protocol as captured (`tcp`, `udp`), when the format captures it. */
  protocol?: string;
  /** Input interface, when the format captures a non-empty one. */
  iface?: string;
  /** Destination address (normalised like `srcIp`), when the format captures it. */
  dstIp?: string;
  /** Source port, when the format captures it (the built-in format does). */
  srcPort?: number;
  /** When the line was read (epoch ms, from the injected clock): log timestamps are not parsed. */
  timeMs: number;
  /** Where the hit came from, for every log line about it: `/var/log/firewall:1234`. */
  origin: string;
}

/** The current time (STYLE.md §6). */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** The real clock (`Date.now()`). */
export const systemClock: Clock = {
  now: (): number => Date.now(),
};
