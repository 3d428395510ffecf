/**
 * Human-facing reports: the resolved settings (`-check`) and the counters (`-replay`, SIGUSR1).
 */
import { knockPortCounts } from "@portknock/codec";
import type { LoadedDaemon } from "./load.ts";

/** The resolved settings of a loaded config, one `key = value` per line; the key is redacted. */
export function describeSettings(d: LoadedDaemon): string {
  const c = d.config;
  const k = d.knock;
  const lines: Array<[string, string]> = [
    ["config", c.file],
    ["runmode", c.runmode],
    ...(c.runmode === "file"
      ? ([
          c.logcommand != null
            ? ["logcommand", c.logcommand]
            : ["logfile", c.logfile],
          ["fileinterval", `${c.fileIntervalMs / 1000} s`],
          ["uselogformat", c.uselogformat],
        ] as Array<[string, string]>)
      : ([
          ["interface", c.interfaces.join(" ")],
          ["snapshotsize", String(c.snapshotSize)],
        ] as Array<[string, string]>)),
    ["format", c.format],
    ["knock", `${k.layout.text} (${k.layout.length} bytes plaintext)`],
    [
      "portspan",
      `${k.span.text} (${k.span.ports.length} ports, ${k.span.bitsPerPort} bits per port)`,
    ],
    ...(k.format === "sealed"
      ? ([
          ["encrypt", "AES-256-GCM, 8-byte tag (sealed)"],
          [
            "keys",
            `${c.key != null ? "key (set, not shown)" : "no top-level key"}${c.users.size > 0 ? `, ${c.users.size} users: ${[...c.users.keys()].join(", ")}` : ""}`,
          ],
          ["window", `${c.windowMs / 1000} s`],
          [
            "requiresource",
            c.requireSource
              ? "yes"
              : "no (CLIENT is trusted: it is authenticated)",
          ],
          ["padding", k.padding],
          [
            "knock length",
            knockPortCounts(k)
              .map(
                (p, i) =>
                  `${p} ports${knockPortCounts(k).length > 1 ? (i === 0 ? " (IPv4 CLIENT)" : " (IPv6 CLIENT)") : ""}`,
              )
              .join(", "),
          ],
        ] as Array<[string, string]>)
      : ([
          ["encrypt", k.encrypt ? `yes, ${k.cipherName}` : "no"],
          ["key", c.key != null ? "(set, not shown)" : "(none)"],
          ["iv", k.iv ? "yes (RandomIV header)" : "no"],
          ["padding", k.padding],
          ["knock length", `${k.wireLength} bytes = ${k.portCount} ports`],
        ] as Array<[string, string]>)),
    ["knocktimeout", `${c.knockTimeoutMs / 1000} s`],
    ["maxsources", String(c.maxSources)],
    ["statefile", c.statefile ?? "(none: memory only)"],
    ["metrics", c.metrics ? `http://${c.metrics.text}/metrics` : "off"],
    [
      "actions",
      `${c.actions.actions.length} (${c.actions.actions.filter((a) => a.use).length} in use), ${c.actions.templates.size} templates`,
    ],
  ];
  const w = Math.max(...lines.map(([key]) => key.length));
  return lines.map(([key, v]) => `${key.padEnd(w)}  ${v}`).join("\n");
}

/** Flattens counters into `name value` lines, nested objects as `a.b`. */
export function formatCounters(counters: object): string {
  const out: string[] = [];
  const walk = (prefix: string, v: unknown): void => {
    if (v != null && typeof v === "object") {
      for (const [k, x] of Object.entries(v))
        walk(prefix ? `${prefix}.${k}` : k, x);
    } else {
      out.push(`${prefix} ${String(v)}`);
    }
  };
  walk("", counters);
  return out.join("\n");
}
