/**
 * #15 (service-grade output), the parts done so far: ISO-8601 timestamps on text lines,
 * sd-daemon priority prefixes when stderr is the journal's, and a reader that goes away
 * (`knockd -man | head -1`) ends the output quietly instead of crashing with EPIPE.
 */
import { spawnSync } from "node:child_process";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createDaemonLogger } from "../src/logger.ts";
import { KNOCKD } from "./helpers.ts";

function capture(
  journal: boolean,
  json = false,
): {
  logger: ReturnType<typeof createDaemonLogger>;
  lines: () => string[];
} {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  const logger = createDaemonLogger({
    json,
    level: "debug",
    stream,
    journal,
  });
  return { logger, lines: () => text.split("\n").filter(Boolean) };
}

describe("knockd's log lines for a service (#15)", () => {
  it("text lines start with an ISO-8601 timestamp", () => {
    const { logger, lines } = capture(false);
    logger.info({ event: "ready", logfile: "/var/log/fw" }, "ready");
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO ready logfile=\/var\/log\/fw$/,
    );
  });

  it("under the journal: sd-daemon priorities, no timestamp (journald stamps)", () => {
    const { logger, lines } = capture(true);
    logger.debug({ event: "hit.queued" });
    logger.info({ event: "ready" }, "ready");
    logger.warn({ event: "knock.rejected", code: "KNOCK_BAD_TAG" }, "bad");
    logger.error({ event: "source.error", code: "EACCES" }, "cannot read");
    expect(lines()).toEqual([
      "<7>DEBUG hit.queued",
      "<6>INFO ready",
      "<4>WARN knock.rejected bad code=KNOCK_BAD_TAG",
      '<3>ERROR source.error "cannot read" code=EACCES',
    ]);
  });

  it("under the journal with -logjson: the prefix, then the JSON record", () => {
    const { logger, lines } = capture(true, true);
    logger.error({ event: "store.error" }, "cannot write");
    const [line] = lines();
    expect(line).toMatch(/^<3>\{/);
    expect(JSON.parse(line!.slice(3))).toMatchObject({
      event: "store.error",
      msg: "cannot write",
      level: 50,
    });
  });

  it("a reader that goes away ends the output quietly (knockd -man | reader that closes)", () => {
    // The reader closes its end at once; knockd's write then gets EPIPE.
    const r = spawnSync(
      "bash",
      [
        "-c",
        `"${process.execPath}" "${KNOCKD}" -man | (exec 0<&-; sleep 0.5); echo "status=\${PIPESTATUS[0]}" >&2`,
      ],
      { encoding: "utf8" },
    );
    expect(r.stderr).toBe("status=0\n");
  });
});
