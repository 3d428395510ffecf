/**
 * Rotation scenarios shared by every follower (STYLE.md §9: one contract suite): `followLog`
 * (on `@logdna/tail-file`) and the `tail` package, which `followLog` does not use; the README's
 * results table comes from running this table against both.
 */
import {
  appendFileSync,
  copyFileSync,
  renameSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { collect, tempDir } from "./helpers.ts";

/** A follower under test: yields the text of each new line of `path`. */
export interface Follower {
  name: string;
  follow(
    path: string,
    options: {
      pollIntervalMs: number;
      signal: AbortSignal;
      onReady: () => void;
      /** Called when the follower notices the file is missing (if it can tell). */
      onMissing?: () => void;
    },
  ): AsyncIterable<string>;
}

/** What a scenario can do to the followed file. */
export interface ScenarioContext {
  path: string;
  append(data: string | Uint8Array, path?: string): void;
  /** Resolves once every line in `lines` has been received. */
  received(...lines: string[]): Promise<void>;
  /** Resolves once the follower noticed the file is missing (or after a few polls). */
  missingNoticed(): Promise<void>;
}

/** One scenario: what it does and the exact lines a correct follower yields. */
export interface Scenario {
  name: string;
  expected: string[];
  /** A known limit of size-based following: only recovery is required. */
  limitation?: boolean;
  run(ctx: ScenarioContext): Promise<void>;
}

export const POLL_MS = 25;
const LONG = "L".repeat(300_000);

export const SCENARIOS: Scenario[] = [
  {
    name: "appends, in pieces",
    expected: ["A1", "A2", "A3"],
    async run(ctx) {
      ctx.append("A1\nA2\n");
      await ctx.received("A2");
      ctx.append("A3\n");
    },
  },
  {
    name: "partial last line completed later",
    expected: ["P1", "B1 partial"],
    async run(ctx) {
      ctx.append("P1\nB1 par");
      await ctx.received("P1"); // the partial line was read with it
      ctx.append("tial\n");
    },
  },
  {
    name: "CRLF and a UTF-8 character split across writes",
    expected: ["C1", "C2 café"],
    async run(ctx) {
      ctx.append(Buffer.from("C1\r\nC2 caf\xc3", "latin1"));
      await ctx.received("C1");
      ctx.append(Buffer.from([0xa9, 0x0a]));
    },
  },
  {
    name: "a 300 kB line",
    expected: ["S1", LONG, "S2"],
    run(ctx) {
      ctx.append(`S1\n${LONG}\nS2\n`);
      return Promise.resolve();
    },
  },
  {
    name: "rename + create (logrotate create)",
    expected: ["A1", "A2", "A3", "LATE-OLD", "B1", "B2", "B3", "B4"],
    async run(ctx) {
      ctx.append("A1\nA2\nA3\n");
      await ctx.received("A3");
      renameSync(ctx.path, `${ctx.path}.1`);
      ctx.append("LATE-OLD\n", `${ctx.path}.1`); // the writer still has the old file open
      writeFileSync(ctx.path, "B1\nB2\nB3\n");
      await ctx.received("B3");
      ctx.append("B4\n");
    },
  },
  {
    name: "copytruncate",
    expected: ["A1", "A2", "A3", "C1", "C2"],
    async run(ctx) {
      ctx.append("A1\nA2\nA3\n");
      await ctx.received("A3");
      copyFileSync(ctx.path, `${ctx.path}.1`);
      truncateSync(ctx.path, 0);
      ctx.append("C1\n");
      await ctx.received("C1");
      ctx.append("C2\n");
    },
  },
  {
    name: "delete, then re-create at once",
    expected: ["A1", "D1", "D2"],
    async run(ctx) {
      ctx.append("A1\n");
      await ctx.received("A1");
      unlinkSync(ctx.path);
      writeFileSync(ctx.path, "D1\n");
      await ctx.received("D1");
      ctx.append("D2\n");
    },
  },
  {
    name: "delete, re-create after the follower noticed",
    expected: ["A1", "D1", "D2"],
    async run(ctx) {
      ctx.append("A1\n");
      await ctx.received("A1");
      unlinkSync(ctx.path);
      await ctx.missingNoticed();
      writeFileSync(ctx.path, "D1\n");
      await ctx.received("D1");
      ctx.append("D2\n");
    },
  },
  {
    name: "truncate and rewrite more than the old size within one poll",
    expected: ["A1", "A2", "A3", "T1 longer than before", "T2"],
    limitation: true,
    async run(ctx) {
      ctx.append("A1\nA2\nA3\n");
      await ctx.received("A3");
      truncateSync(ctx.path, 0);
      ctx.append("T1 longer than before\n");
      ctx.append("T2\n");
    },
  },
];

/** What a follower yielded in a scenario, and whether it ended with the last expected line. */
export interface ScenarioResult {
  lines: string[];
  /** The last expected line arrived before the deadline. */
  completed: boolean;
}

/**
 * Runs `scenario` against `follower` in a fresh temp dir: the file starts with lines that must
 * not be yielded (following starts at the end); waits are on received lines, each bounded by
 * `timeoutMs`.
 */
export async function runScenario(
  follower: Follower,
  scenario: Scenario,
  timeoutMs = 4000,
): Promise<ScenarioResult> {
  const path = join(tempDir(), "firewall.log");
  writeFileSync(path, "OLD1\nOLD2\n");
  const controller = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  let missing!: () => void;
  const isMissing = new Promise<void>((resolve) => (missing = resolve));
  const got = collect(
    follower.follow(path, {
      pollIntervalMs: POLL_MS,
      signal: controller.signal,
      onReady: () => ready(),
      onMissing: () => missing(),
    }),
  );
  const has =
    (...lines: string[]) =>
    (items: readonly string[]) =>
      lines.every((l) => items.includes(l));
  try {
    await isReady;
    await scenario.run({
      path,
      append: (data, to = path) => appendFileSync(to, data),
      received: (...lines) => got.waitFor(has(...lines), timeoutMs),
      missingNoticed: () =>
        Promise.race([
          isMissing,
          new Promise<void>((resolve) => setTimeout(resolve, POLL_MS * 4)),
        ]),
    });
    const last = scenario.expected[scenario.expected.length - 1] ?? "";
    await got.waitFor(has(last), timeoutMs);
    return { lines: [...got.items], completed: true };
  } catch {
    return { lines: [...got.items], completed: false };
  } finally {
    controller.abort();
    await got.ended;
  }
}
