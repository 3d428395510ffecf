import { readFileSync } from "node:fs";

/** `knock -h`: brief usage. */
export const USAGE = `usage: knock [-conf FILE] [-remote HOST] [-client IP] [-port N] [-flag0 N …]
             [-time N] [-mask N] [-knock FIELDS] [-portspan SPAN] [-[no]encrypt]
             [-cipher Blowfish|DES|IDEA] [-key PASS] [-[no]iv] [-ivvalue V]
             [-padding right|left] [-protocol tcp|udp] [-method connect|raw]
             [-knockdelay MS] [-logtofile -logfile FILE [-fileformat FMT]]
             [-test] [-json] [-debug] [-quiet] [-genkey] [-h] [-man] [-version]

Encodes a knock and sends it to HOST as one TCP SYN (or UDP datagram) per port.
Options take one or two dashes; each is also a key of knockclient.conf, and the
command line wins. -test prints the ports instead of sending; -man the manual.
Exit status: 0 sent, 1 a send failed, 2 usage or config error.`;

/** `knock -man`: the full manual, shipped in the package (`man/knock.txt`). */
export function readManual(): string {
  return readFileSync(
    new URL("../man/knock.txt", import.meta.url),
    "utf8",
  ).trimEnd();
}

/** `knock -version`: the version of the `@portknock/knock` package. */
export function readVersion(): string {
  const pkg = JSON.parse(
    readFileSync(new URL("../package.json", import.meta.url), "utf8"),
  ) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}
