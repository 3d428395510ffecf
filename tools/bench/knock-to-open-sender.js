// The knock-to-open bench's client, run inside its network namespace (issue #17). Listens on
// 127.0.0.1:PORT (the protected service), then reads JSON lines {src, ports} on stdin: sends one
// TCP SYN from `src` to each port in order (connects the firewall drops), notes process.hrtime
// just before the last one, then tries a connection from `src` to the protected port every
// millisecond until one is accepted, and prints {"ms": <last SYN → connected>} (or
// {"ms": null} after 5 s).
import { connect, createServer } from "node:net";
import { createInterface } from "node:readline";

const PORT = Number(process.argv[2]);
const server = createServer((s) => s.destroy());
await new Promise((r) => server.listen(PORT, "127.0.0.1", r));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const { src, ports } = JSON.parse(line);
  const sockets = [];
  const open = (port) => {
    const s = connect({ host: "127.0.0.1", port, localAddress: src });
    s.on("error", () => undefined);
    sockets.push(s);
    return s;
  };
  let t0 = 0n;
  ports.forEach((port, i) => {
    if (i === ports.length - 1) t0 = process.hrtime.bigint();
    open(port);
  });
  const ms = await new Promise((resolve) => {
    const tick = setInterval(() => {
      const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
      if (elapsed > 5000) {
        clearInterval(tick);
        resolve(null);
        return;
      }
      open(PORT).once("connect", () => {
        clearInterval(tick);
        resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      });
    }, 1);
  });
  for (const s of sockets) s.destroy();
  process.stdout.write(`${JSON.stringify({ ms })}\n`);
}
