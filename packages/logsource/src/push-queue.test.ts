import { describe, expect, it } from "vitest";
import { createPushQueue } from "./push-queue.ts";

describe("createPushQueue", () => {
  it("yields pushed items in order, then ends", async () => {
    const q = createPushQueue<number>();
    const next = q.next();
    q.push(1);
    q.push(2);
    q.end();
    q.push(3); // ignored after the end
    expect(await next).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it("pauses the source at highWater and resumes it at half", async () => {
    const events: string[] = [];
    const q = createPushQueue<number>({
      highWater: 4,
      onPause: () => events.push("pause"),
      onResume: () => events.push("resume"),
    });
    for (let i = 0; i < 4; i++) q.push(i);
    expect(events).toEqual(["pause"]);
    await q.next();
    await q.next();
    expect(events).toEqual(["pause", "resume"]);
  });

  it("gives everything queued as one batch", async () => {
    const q = createPushQueue<number>();
    q.push(1);
    q.push(2);
    expect(await q.nextBatch()).toEqual({ value: [1, 2], done: false });
    const waiting = q.nextBatch();
    q.push(3);
    expect(await waiting).toEqual({ value: [3], done: false });
    q.end();
    expect(await q.nextBatch()).toMatchObject({ done: true });
  });

  it("rejects once with the failure after the queued items", async () => {
    const q = createPushQueue<number>();
    q.push(1);
    q.fail(new Error("boom"));
    expect(await q.next()).toEqual({ value: 1, done: false });
    await expect(q.next()).rejects.toThrow("boom");
    expect(await q.next()).toMatchObject({ done: true });
  });

  it("calls onReturn once when the consumer stops early", async () => {
    let returned = 0;
    const q = createPushQueue<number>({ onReturn: () => void returned++ });
    const pending = q.next();
    await q.return();
    await q.return();
    expect(await pending).toMatchObject({ done: true });
    expect(returned).toBe(1);
  });
});
