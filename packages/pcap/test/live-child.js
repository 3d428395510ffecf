// Runs inside a test network namespace (spawned by live.test.ts through `ip netns exec`): opens a
// packet hit source from the built package, performs the plan's steps (real connects and
// datagrams through the kernel, raw frames injected with the addon's send), waits until a hit has
// arrived for every marker port (packets on `lo` are captured in order, so a marker's hit means
// every earlier packet has been through the filter), then prints hits and counters as JSON.
import dgram from "node:dgram";
import net from "node:net";

const pcap = await import(new URL("../dist/index.js", import.meta.url).href);
// The addon's injection (pcap_inject) is not part of the package's API: the test reaches it
// through the built module.
const { loadNative } = await import(
  new URL("../dist/native-binding.js", import.meta.url).href
);

const plan = JSON.parse(process.argv[2]);
const MARKER_TIMEOUT_MS = 5000;

function ethfilterOf(properties) {
  if (properties == null) return undefined;
  const where = (line) => ({ kind: "config", file: "live", line });
  const block = {
    name: "live",
    where: where(1),
    properties: new Map(
      Object.entries(properties).map(([k, v], i) => [
        k,
        { text: v, where: where(i + 2) },
      ]),
    ),
  };
  const r = pcap.compileEthFilter(block);
  if (r.filter == null) throw new Error(JSON.stringify(r.diagnostics));
  return r.filter;
}

function tcpConnect({ host, port }) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once("error", () => resolve());
    s.once("connect", () => {
      s.destroy();
      resolve();
    });
  });
}

// A real connection to a listening port: its SYN, then ACKs and data to the same port.
async function tcpSession({ host, port }) {
  const server = net.createServer((c) => c.resume().on("end", () => c.end()));
  await new Promise((resolve) => server.listen(port, host, resolve));
  await new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => s.end("hello"));
    s.once("error", reject);
    s.resume().once("close", resolve);
  });
  await new Promise((resolve) => server.close(resolve));
}

function udpSend({ host, port }) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    s.send("x", port, host, (error) => {
      s.close();
      if (error) reject(error);
      else resolve();
    });
  });
}

function inject({ iface, hex, times }) {
  const { Capture } = loadNative();
  const sender = new Capture(
    iface,
    "ether proto 0x88b5",
    {
      snaplen: 128,
      bufferBytes: 1 << 20,
      promiscuous: false,
      immediate: true,
      timeoutMs: 100,
      batchBytes: 65_536,
      batchPackets: 1024,
      inbound: true,
    },
    () => {},
  );
  const frame = Buffer.from(hex, "hex");
  sender.send(frame, frame.length, times ?? 1);
  sender.close();
}

const hits = [];
// With plan.columns: the lane each hit took ("columns" or "object"), and the hits whose numbers
// in the columns (what the detector reads) differ from their KnockHit's fields.
const lanes = [];
const mismatches = [];
const pending = new Set(plan.markers);
let markersSeen;
const allMarkers = new Promise((resolve) => (markersSeen = resolve));
const take = (hit, lane) => {
  hits.push(hit);
  lanes.push(lane);
  pending.delete(hit.dstPort);
  if (pending.size === 0) markersSeen();
};
const quad = (n) =>
  [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
// An IPv6 source in the columns (v4 -2): its four words, as text (`::` compression as
// `formatIpv6` writes it, through node's URL parser's canonical form).
const v6Text = (v6, i) => {
  const groups = [];
  for (let w = 0; w < 4; w++) {
    const n = v6[4 * i + w] >>> 0;
    groups.push((n >>> 16).toString(16), (n & 0xffff).toString(16));
  }
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
};
const sourceOf = (columns, i) =>
  columns.v4[i] === -2 ? v6Text(columns.v6, i) : quad(columns.v4[i]);
const source = pcap.createPacketHitSource({
  interfaces: plan.interfaces,
  ranges: plan.ranges,
  protocol: plan.protocol,
  ethfilter: ethfilterOf(plan.ethfilter),
  ...(plan.columns && {
    onHit: (hit) => take(hit, "object"),
    onColumns: (columns) => {
      for (let i = 0; i < columns.length; i++) {
        const hit = columns.hit(i);
        if (
          sourceOf(columns, i) !== hit.srcIp ||
          columns.dstPort[i] !== hit.dstPort ||
          columns.srcPort[i] !== (hit.srcPort ?? -1) ||
          columns.seq[i] !== (hit.seq ?? -1) ||
          columns.timesMs[i] !== hit.timeMs
        )
          mismatches.push(hit.origin);
        take(hit, "columns");
      }
    },
  }),
  ...(plan.destinations != null && { destinations: plan.destinations }),
});
const consumed = (async () => {
  for await (const hit of source) take(hit, "queued");
})();

for (const step of plan.steps) {
  if (step.tcp) await tcpConnect(step.tcp);
  else if (step.session) await tcpSession(step.session);
  else if (step.udp) await udpSend(step.udp);
  else if (step.inject) inject(step.inject);
}
let timer;
const timedOut = await Promise.race([
  allMarkers.then(() => false),
  new Promise(
    (resolve) => (timer = setTimeout(() => resolve(true), MARKER_TIMEOUT_MS)),
  ),
]);
clearTimeout(timer);
await source.close();
await consumed;
process.stdout.write(
  JSON.stringify({
    bpfFilter: source.bpfFilter,
    hits,
    stats: source.stats,
    pcap: source.pcapStats(),
    timedOut,
    lanes,
    mismatches,
  }),
);
