import { describe, expect, it } from "vitest";
import { createRateLimiter } from "./rate-limit.ts";

describe("createRateLimiter", () => {
  it("passes one event per key per interval and counts the suppressed ones", () => {
    let t = 0;
    const limiter = createRateLimiter({
      clock: { now: () => t },
      intervalMs: 60_000,
    });
    expect(limiter.take("LOG_BAD_IP")).toBe(0);
    expect(limiter.take("LOG_BAD_IP")).toBe(-1);
    expect(limiter.take("LOG_BAD_IP")).toBe(-1);
    expect(limiter.take("LOG_BAD_PORT")).toBe(0);
    t = 59_999;
    expect(limiter.take("LOG_BAD_IP")).toBe(-1);
    t = 60_000;
    expect(limiter.take("LOG_BAD_IP")).toBe(3);
    expect(limiter.take("LOG_BAD_IP")).toBe(-1);
  });

  it("allows a burst", () => {
    const limiter = createRateLimiter({
      clock: { now: () => 0 },
      intervalMs: 1000,
      burst: 2,
    });
    expect([limiter.take("k"), limiter.take("k"), limiter.take("k")]).toEqual([
      0, 0, -1,
    ]);
  });
});
