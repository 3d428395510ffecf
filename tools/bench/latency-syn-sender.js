// The latency bench's knock sender, run inside its network namespace: reads JSON arrays of ports
// on stdin, one knock a line, and sends one TCP SYN to 127.0.0.1 on each port in order (a
// connect; the firewall drops it, and the socket is destroyed 300 ms later, before the kernel's
// first retransmit at 1 s). For each knock it prints {"t0": "<ns>"}: process.hrtime (the
// machine's monotonic clock, the same in every process) just before the last SYN.
import { connect } from "node:net";
import { createInterface } from "node:readline";

for await (const line of createInterface({ input: process.stdin })) {
  const ports = JSON.parse(line);
  const sockets = [];
  let t0 = 0n;
  ports.forEach((port, i) => {
    if (i === ports.length - 1) t0 = process.hrtime.bigint();
    const s = connect({ host: "127.0.0.1", port });
    s.on("error", () => undefined);
    sockets.push(s);
  });
  setTimeout(() => sockets.forEach((s) => s.destroy()), 300);
  process.stdout.write(`${JSON.stringify({ t0: String(t0) })}\n`);
}
