import { describe, expect, it } from "vitest";
import { loadDaemonConfig } from "../src/index.ts";
import type { DaemonConfig } from "../src/index.ts";
import { fixture } from "./fixtures.ts";

function load(name: string): DaemonConfig {
  const r = loadDaemonConfig(fixture("manual", name));
  expect(r.diagnostics).toEqual([]);
  if (!r.config) throw new Error("no config");
  return r.config;
}

const texts = (xs: readonly { text: string }[]): string[] =>
  xs.map((x) => x.text);

describe("the knockdaemon manual's examples", () => {
  it("file mode: logformats, portspan 600-699,…, the immediate and delayed actions", () => {
    const c = load("file-mode.conf");
    expect(c).toMatchObject({
      runmode: "file",
      logfile: "/var/log/firewall",
      fileIntervalMs: 500,
      uselogformat: "mydebugformat",
      knock: "IP,PORT,FLAG0,FLAG1,CHECKSUM",
      portspan: "600-699,800-898,900,968-1023",
      encrypt: true,
      key: "my_secret_phrase",
      cipher: "Blowfish",
      iv: true,
    });
    expect([...c.logformats.keys()]).toEqual([
      "iptables",
      "ipchains",
      "mydebugformat",
    ]);
    const iptables = c.logformats.get("iptables");
    expect(iptables?.interface?.text).toBe("IN=(\\S+)");
    expect(iptables?.port).toMatchObject({
      text: "DPT=([0-9]+)",
      where: {
        file: fixture("manual", "file-mode.conf"),
        line: 15,
        column: 10,
      },
    });
    expect(c.logformats.get("mydebugformat")?.required?.text).toBe("portknock");

    const [now, later] = c.actions.actions;
    expect(c.actions.actions).toHaveLength(2);
    expect(now).toMatchObject({ delayMs: 0, use: true });
    expect(now?.condition?.text).toBe("PORT == 22");
    expect(texts(now?.templates ?? [])).toEqual(["exec_myprog"]);
    expect(later).toMatchObject({ delayMs: 5 * 60_000, use: true });
    expect(later?.where.line).toBe(52);
    expect(texts(c.actions.templates.get("exec_myprog")?.system ?? [])).toEqual(
      ["/bin/myprog"],
    );
  });

  it("network mode: <ethfilter tcplo> and the 32768-port span", () => {
    const c = load("network-mode.conf");
    expect(c).toMatchObject({
      runmode: "network",
      interfaces: ["lo"],
      snapshotSize: 1500,
      useethfilter: "tcplo",
      portspan: "1024-5000,6000-25000,26000-35789",
    });
    const f = c.ethfilters.get("tcplo");
    expect(
      Object.fromEntries(
        [...(f?.properties ?? [])].map(([k, v]) => [k, v.text]),
      ),
    ).toEqual({ proto: "IP_PROTO_TCP", flags: "SYN", dest_ip: "127.0.0.1" });
    expect(c.actions.actions).toHaveLength(1);
  });

  it("templates: field substitution and state, carried as written", () => {
    const c = load("templates.conf");
    const t = c.actions.templates;
    expect([...t.keys()]).toEqual([
      "exec_myprog",
      "iptables_open",
      "incr_num_visits",
    ]);
    expect(texts(t.get("exec_myprog")?.system ?? [])).toEqual([
      "/bin/myprog FLAG0 FLAG1",
    ]);
    expect(texts(t.get("iptables_open")?.system ?? [])).toEqual([
      "/sbin/iptables -D INPUT -p tcp -s IP/32 -d 0/0 --dport PORT --syn -j ACCEPT",
    ]);
    expect(texts(t.get("incr_num_visits")?.state ?? [])).toEqual([
      "state(IP,visits,num)++",
    ]);
    const [first, second] = c.actions.actions;
    expect(texts(first?.templates ?? [])).toEqual([
      "exec_myprog",
      "incr_num_visits",
    ]);
    expect(second?.use).toBe(false);
  });
});
