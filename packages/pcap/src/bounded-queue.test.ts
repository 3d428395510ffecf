import { describe, expect, it, vi } from "vitest";
import { createBoundedQueue } from "./bounded-queue.ts";

describe("createBoundedQueue", () => {
  it("keeps order, drops (and counts) the newest when full, drains after end", async () => {
    const q = createBoundedQueue<number>(3);
    expect([1, 2, 3, 4, 5].map((n) => q.push(n))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect([q.size, q.dropped]).toEqual([3, 2]);
    expect((await q.next()).value).toBe(1);
    q.push(6);
    q.end();
    expect(q.push(7)).toBe(false);
    const rest: number[] = [];
    for await (const n of q) rest.push(n);
    expect(rest).toEqual([2, 3, 6]);
  });

  it("hands an item straight to a waiting consumer", async () => {
    const q = createBoundedQueue<string>(1);
    const next = q.next();
    q.push("a");
    q.push("b");
    expect(await next).toEqual({ value: "a", done: false });
    expect(q.dropped).toBe(0);
  });

  it("calls onReturn once when the consumer stops early", async () => {
    const onReturn = vi.fn();
    const q = createBoundedQueue<number>(4, onReturn);
    q.push(1);
    for await (const _ of q) break;
    await q.return?.();
    expect(onReturn).toHaveBeenCalledTimes(1);
    expect(q.size).toBe(0);
  });

  it("rejects after the queued items when failed", async () => {
    const q = createBoundedQueue<number>(4);
    q.push(1);
    q.fail(new Error("boom"));
    expect(q.push(2)).toBe(false);
    expect(await q.next()).toEqual({ value: 1, done: false });
    await expect(q.next()).rejects.toThrow("boom");
    const waiting = createBoundedQueue<number>(4);
    const next = waiting.next();
    waiting.fail(new Error("late"));
    await expect(next).rejects.toThrow("late");
  });

  it("refuses a bad capacity", () => {
    expect(() => createBoundedQueue(0)).toThrow(RangeError);
  });
});
