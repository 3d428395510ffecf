/** The followers compared by the rotation scenarios. */
import { Tail } from "tail";
import { followLog } from "../src/follow-log.ts";
import type { Follower } from "./follower-scenarios.ts";
import { recordingLogger } from "./helpers.ts";

/** `followLog`, which uses `@logdna/tail-file`. */
export const logdnaFollower: Follower = {
  name: "@logdna/tail-file 4.0.2 (followLog)",
  follow(path, { pollIntervalMs, signal, onReady, onMissing }) {
    const logger = recordingLogger();
    void logger
      .waitFor(
        (entries) => entries.some((e) => e.fields.event === "source.missing"),
        60_000,
      )
      .then(
        () => onMissing?.(),
        () => undefined,
      );
    const lines = followLog(path, { pollIntervalMs, signal, onReady, logger });
    return {
      async *[Symbol.asyncIterator]() {
        for await (const line of lines) yield line.text;
      },
    };
  },
};

/** The `tail` package, as its README suggests using it (`fs.watch`, or `fs.watchFile`). */
export function tailFollower(useWatchFile: boolean): Follower {
  return {
    name: `tail 2.2.6 (${useWatchFile ? "fs.watchFile" : "fs.watch"})`,
    follow(path, { pollIntervalMs, signal, onReady }) {
      return {
        async *[Symbol.asyncIterator]() {
          const queue: string[] = [];
          let wake: (() => void) | undefined;
          const tail = new Tail(path, {
            separator: /\r?\n/,
            useWatchFile,
            fsWatchOptions: useWatchFile ? { interval: pollIntervalMs } : {},
          });
          tail.on("line", (line: string) => {
            queue.push(line);
            wake?.();
          });
          tail.on("error", () => undefined);
          const stop = (): void => wake?.();
          signal.addEventListener("abort", stop, { once: true });
          onReady();
          try {
            while (!signal.aborted) {
              const line = queue.shift();
              if (line !== undefined) yield line;
              else await new Promise<void>((resolve) => (wake = resolve));
            }
          } finally {
            tail.unwatch();
          }
        },
      };
    },
  };
}
