/**
 * The text `knockd -init` writes (issue #17): the daemon's and the client's configuration for
 * one gateway, and the next steps it prints. Pure: the plan's values are checked already
 * (init-plan.ts) and hold nothing that could break a config line.
 */
import type { InitPlan, InitProtect } from "./init-plan.ts";
import { INIT_DEFAULTS } from "./init-plan.ts";

/** The two files' names in `-dir`. */
export const INIT_FILES = {
  daemon: "knockdaemon.conf",
  client: "knockclient.conf",
} as const;

const list = (protect: readonly InitProtect[]): string =>
  protect.map((p) => `${p.protocol}/${p.port}`).join(", ");

/** The ports in order, each once (tcp/53 and udp/53 are one knock for 53). */
const portsOf = (protect: readonly InitProtect[]): number[] => [
  ...new Set(protect.map((p) => p.port)),
];

/** Pads `key = value` so the comments line up. */
const kv = (key: string, value: string, comment?: string): string => {
  const line = `${key.padEnd(13)} = ${value}`;
  return comment === undefined ? line : `${line.padEnd(40)} # ${comment}`;
};

function sourceLines(plan: InitPlan): string[] {
  if (plan.runmode === "network") {
    return [
      kv("runmode", "network", "capture the knocks with libpcap (root)"),
      kv("interface", plan.interfaces.join(" "), "where knocks arrive"),
    ];
  }
  const { nflogGroup: group, logfile } = INIT_DEFAULTS;
  return [
    kv("runmode", "file", "read the knocks from ulogd2's log"),
    kv("logfile", logfile, `ulogd2 writes NFLOG group ${group} here`),
    kv("uselogformat", "iptables", "built in: reads ulogd2's lines"),
    ...(plan.interfaces.length > 0
      ? [`# (knocks are expected on ${plan.interfaces.join(" ")})`]
      : []),
    "",
    `# ulogd2 writes the knock lines: the firewall below logs the span's SYNs to NFLOG group`,
    `# ${group}. Debian: apt-get install ulogd2, then in /etc/ulogd.conf (PLUGINS: the directory`,
    `# \`dpkg -L ulogd2 | grep LOGEMU\` shows, e.g. /usr/lib/x86_64-linux-gnu/ulogd):`,
    `#   [global]`,
    `#   plugin="PLUGINS/ulogd_inppkt_NFLOG.so"`,
    `#   plugin="PLUGINS/ulogd_raw2packet_BASE.so"`,
    `#   plugin="PLUGINS/ulogd_filter_IFINDEX.so"`,
    `#   plugin="PLUGINS/ulogd_filter_IP2STR.so"`,
    `#   plugin="PLUGINS/ulogd_filter_PRINTPKT.so"`,
    `#   plugin="PLUGINS/ulogd_output_LOGEMU.so"`,
    `#   stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU`,
    `#   [log1]`,
    `#   group=${group}`,
    `#   netlink_qthreshold=1      # each packet at once (the default waits up to 1 s)`,
    `#   [emu1]`,
    `#   file="${logfile}"`,
    `#   sync=1                    # each line written at once`,
    `# and restart it: systemctl restart ulogd2. More: packages/knockd/RECIPES.md.`,
  ];
}

function actionLines(plan: InitPlan): string[] {
  const lines = [
    "<actions>",
    "  # A knock asking for a protected port opens it to the knocking client (CLIENT, which the",
    "  # daemon has checked is the packet's source) for the grant lifetime. The kernel closes it",
    "  # again, daemon or no daemon; connections made meanwhile stay up.",
  ];
  for (const port of portsOf(plan.protect)) {
    lines.push(
      "  <action>",
      `    condition = PORT == ${port}`,
      `    template  = open_${port}`,
      "  </action>",
    );
  }
  for (const port of portsOf(plan.protect)) {
    lines.push(`  <template open_${port}>`);
    for (const p of plan.protect.filter((q) => q.port === port)) {
      lines.push(`    grant = ${p.protocol}/${p.port}`);
    }
    lines.push("  </template>");
  }
  lines.push("</actions>");
  return lines;
}

/**
 * `knockdaemon.conf`: sealed profile with `key`, the managed `<firewall>` protecting the plan's
 * ports, a statefile, and one `grant` action per protected port. `writtenAt` and the file's own
 * `path` go into the header comments.
 */
export function renderDaemonConfig(
  plan: InitPlan,
  key: string,
  writtenAt: string,
  path: string,
): string {
  const firewall = [
    "<firewall>",
    `  ${kv("backend", "auto", "nftables where `nft` runs, else iptables (+ ipset)")}`,
    ...plan.protect.map(
      (p) =>
        `  ${kv("protect", `${p.protocol}/${p.port}`, "closed to all but knocking clients")}`,
    ),
    `  ${kv("grant", plan.grant, "how long a knock opens it (to connect)")}`,
    ...(plan.runmode === "file"
      ? [
          `  ${kv("nflog", String(INIT_DEFAULTS.nflogGroup), "the span's SYNs to ulogd2")}`,
        ]
      : []),
    "</firewall>",
  ];
  return [
    `# knockdaemon.conf for the gateway ${plan.remote}, written by knockd -init at ${writtenAt}.`,
    `# Protects ${list(plan.protect)}: closed to everyone but a client that knocked with the key below.`,
    "# THE KEY IS SECRET: keep this file mode 0600. knockclient.conf holds the same key.",
    "# Check it (settings, security audit, environment), then run it as root (it installs the",
    "# firewall):",
    `#   knockd -check -conf ${path}`,
    `#   knockd -conf ${path}`,
    "",
    ...sourceLines(plan),
    "",
    "# The knock: must match knockclient.conf. Sealed: AES-256-GCM, a time window and a",
    "# replay cache. The firewall drops the whole span: no service here may listen on it.",
    kv("format", "sealed"),
    kv("knock", "CLIENT,PORT"),
    kv("portspan", plan.portspan),
    kv("key", key),
    kv("window", "60", "seconds a knock's time may differ"),
    kv("requiresource", "yes", "CLIENT must be the packet's source"),
    kv("statefile", plan.statefile, "the replay cache survives restarts"),
    "",
    "# The managed firewall: knockd installs it at start (nftables table inet portknock, or",
    "# the iptables chain PORTKNOCK), reinstalls it on reload and restart without duplicates,",
    "# and knockd -firewall-remove takes it away. Your own ruleset is left as it is.",
    ...firewall,
    "",
    ...actionLines(plan),
    "",
  ].join("\n");
}

/** `knockclient.conf`: the same knock settings and key, and `remote`. */
export function renderClientConfig(
  plan: InitPlan,
  key: string,
  writtenAt: string,
): string {
  const [first] = plan.protect;
  return [
    `# knockclient.conf for the gateway ${plan.remote}, written by knockd -init at ${writtenAt}.`,
    "# THE KEY IS SECRET: copy this file to the client over ssh, as ~/.knockclient.conf, mode 0600.",
    `#   knock -port ${first?.port ?? 22}        knock (then connect within ${plan.grant})`,
    "",
    kv("format", "sealed"),
    kv("knock", "CLIENT,PORT"),
    kv("portspan", plan.portspan),
    kv("key", key),
    kv("remote", plan.remote),
    "# Behind NAT, CLIENT must be the address the gateway sees: client = 203.0.113.7",
    "",
  ].join("\n");
}

/** Single-quotes a path for a shell line when it needs it (the next steps are copied). */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./+:=@%^,-]+$/.test(text)
    ? text
    : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** What `knockd -init` prints once both files are written. */
export function renderNextSteps(
  plan: InitPlan,
  paths: { daemon: string; client: string },
): string {
  const daemon = shellWord(paths.daemon);
  const client = shellWord(paths.client);
  const [first] = plan.protect;
  const port = first?.port ?? 22;
  const steps: string[][] = [
    [
      "Copy the client file to each client (over ssh; it holds the key), then delete it here:",
      `  scp ${client} USER@CLIENT-HOST:.knockclient.conf`,
      `  rm ${client}`,
    ],
  ];
  if (plan.runmode === "file") {
    steps.push([
      `Set up ulogd2 to write NFLOG group ${INIT_DEFAULTS.nflogGroup} to ${INIT_DEFAULTS.logfile} (the settings are in`,
      `the comments of ${daemon}).`,
    ]);
  }
  steps.push(
    ["Check the configuration:", `  knockd -check -conf ${daemon}`],
    [
      "Start knockd as root. It installs the firewall, which closes " +
        list(plan.protect),
      `to all but knocking clients and drops the knock span ${plan.portspan}. Keep this`,
      "session open until a knock works:",
      `  knockd -conf ${daemon}`,
      "The firewall stays when knockd stops. If no knock gets through, reopen the port with",
      `  knockd -firewall-remove -conf ${daemon}`,
      "Once a knock works, run knockd as a service (the systemd unit is in the README of",
      "@portknock/knockd).",
    ],
    [
      `On the client, knock, then connect within ${plan.grant}:`,
      `  knock -port ${port}`,
      ...(port === 22 ? [`  ssh ${plan.remote}`] : []),
    ],
  );
  return [
    `wrote ${paths.daemon} and ${paths.client} (mode 0600; both hold the same new key)`,
    "",
    "Next steps:",
    ...steps.flatMap((lines, i) => [
      `${i + 1}. ${lines[0]}`,
      ...lines.slice(1).map((l) => `   ${l}`),
    ]),
  ].join("\n");
}
