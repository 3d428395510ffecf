import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MINUTE, setup } from "./engine-harness.ts";
import { tempDir, writeRecorder } from "./helpers.ts";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  vi.setSystemTime(Date.UTC(2024, 5, 1, 12, 0, 0));
});
afterEach(() => {
  vi.useRealTimers();
});

describe("manual examples", () => {
  it("exec_myprog runs now, and again after 5 minutes", async () => {
    const rec = writeRecorder(tempDir(), "myprog");
    const { engine, store } = setup(
      [
        { condition: "PORT == 22", templates: ["exec_myprog"] },
        {
          condition: "PORT == 22",
          templates: ["exec_myprog"],
          delayMs: 5 * MINUTE,
        },
      ],
      { exec_myprog: { system: [`"${rec.path}"`] } },
    );
    const result = await engine.accept({
      CLIENT: "10.3.2.1",
      PORT: 22,
      FLAG0: 0,
      FLAG1: 0,
    });
    expect(result.actions.map((a) => a.status)).toEqual(["ran", "scheduled"]);
    expect(rec.calls()).toEqual([[]]);
    expect(store.pending()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5 * MINUTE - 1);
    expect(rec.calls()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await engine.idle();
    expect(rec.calls()).toEqual([[], []]);
    expect(store.pending()).toEqual([]);
    expect(engine.counters).toMatchObject({
      actionsRun: 2,
      actionsScheduled: 1,
      commandsRun: 2,
      commandsFailed: 0,
    });

    const other = await engine.accept({
      CLIENT: "10.3.2.1",
      PORT: 23,
      FLAG0: 0,
      FLAG1: 0,
    });
    expect(other.actions.map((a) => a.status)).toEqual([
      "unmatched",
      "unmatched",
    ]);
    await engine.close();
  });

  it("passes knock fields to the program: /bin/myprog FLAG0 FLAG1", async () => {
    const rec = writeRecorder(tempDir(), "myprog");
    const { engine } = setup([{ templates: ["exec_myprog"] }], {
      exec_myprog: { system: [`${rec.path} FLAG0 FLAG1`] },
    });
    await engine.accept({ CLIENT: "10.3.2.1", PORT: 22, FLAG0: 7, FLAG1: 255 });
    expect(rec.calls()).toEqual([["7", "255"]]);
    await engine.close();
  });

  it("iptables_open substitutes IP/32 and PORT and leaves 0/0 alone", async () => {
    const rec = writeRecorder(tempDir(), "iptables");
    const { engine } = setup(
      [{ condition: "PORT == 3306", templates: ["iptables_open"] }],
      {
        iptables_open: {
          system: [
            `${rec.path} -D INPUT -p tcp -s IP/32 -d 0/0 --dport PORT --syn -j ACCEPT`,
          ],
        },
      },
    );
    const result = await engine.accept({
      CLIENT: "10.3.2.1",
      PORT: 3306,
      FLAG0: 5,
      FLAG1: 0,
    });
    const argv = [
      "-D",
      "INPUT",
      "-p",
      "tcp",
      "-s",
      "10.3.2.1/32",
      "-d",
      "0/0",
      "--dport",
      "3306",
      "--syn",
      "-j",
      "ACCEPT",
    ];
    expect(rec.calls()).toEqual([argv]);
    expect(result.actions[0]).toMatchObject({
      status: "ran",
      argv: [[rec.path, ...argv]],
    });
    expect(result.actions[0]?.commands[0]?.result).toMatchObject({
      ok: true,
      exitCode: 0,
    });
    await engine.close();
  });

  it("incr_num_visits counts with state(IP,visits,num)++ and conditions read it", async () => {
    const rec = writeRecorder(tempDir(), "third");
    const { engine, store } = setup(
      [
        { templates: ["incr_num_visits"] },
        { condition: "state(IP,visits,num) == 3", templates: ["exec_third"] },
      ],
      {
        incr_num_visits: { state: ["state(IP,visits,num)++"] },
        exec_third: { system: [`${rec.path} IP`] },
      },
    );
    const knock = { CLIENT: "10.1.1.1", PORT: 22, FLAG0: 0, FLAG1: 0 };
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await engine.accept(knock)).actions.map((a) => a.status));
    expect(statuses).toEqual([
      ["ran", "unmatched"],
      ["ran", "unmatched"],
      ["ran", "ran"],
      ["ran", "unmatched"],
    ]);
    expect(store.get(["10.1.1.1", "visits", "num"])).toBe(4);
    expect(rec.calls()).toEqual([["10.1.1.1"]]);
    await engine.close();
  });
});

describe("order", () => {
  it("runs actions in file order, templates in order, every matching action; use = no skips", async () => {
    const rec = writeRecorder(tempDir(), "rec");
    const { engine } = setup(
      [
        { condition: "PORT == 22", templates: ["a", "b"] },
        { condition: "PORT == 22", templates: ["c"], use: false },
        { condition: "PORT != 22", templates: ["c"] },
        { templates: ["c", "a"] },
      ],
      {
        a: { system: [`${rec.path} a1`, `${rec.path} a2`] },
        b: { system: [`${rec.path} b`] },
        c: { system: [`${rec.path} c`] },
      },
    );
    const result = await engine.accept({
      CLIENT: "10.0.0.1",
      PORT: 22,
      FLAG0: 0,
      FLAG1: 0,
    });
    expect(result.actions.map((a) => a.status)).toEqual([
      "ran",
      "disabled",
      "unmatched",
      "ran",
    ]);
    expect(rec.calls()).toEqual([["a1"], ["a2"], ["b"], ["c"], ["a1"], ["a2"]]);
    await engine.close();
  });
});
