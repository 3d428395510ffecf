/**
 * knockd's help (`-h`), manual (`-man`) and version (`-version`).
 */
import { readFileSync } from "node:fs";

/** `knockd -h`. */
export const USAGE = `usage: knockd [-conf FILE] [-debug] [-quiet] [-test] [-check] [-replay FILE]
              [-firewall-remove] [-logjson] [-h] [-man] [-version]
       knockd -init -protect tcp/PORT [-protect …] -remote HOST -dir DIR
              [-interface NAME …] [-grant 30s] [-runmode network|file]
              [-portspan FROM-TO] [-statefile PATH]

Follows the firewall log (runmode = file) or captures packets (runmode =
network), decodes port knocks and runs the actions of knockdaemon.conf. Options take one or two dashes.
  -conf FILE    configuration (default: ~/.knockdaemon.conf, BIN/knockdaemon.conf,
                BIN/etc/, BIN/../etc/, /etc/portknock/knockdaemon.conf)
  -check        validate the config, print the settings, the security audit
                and the environment (log file, interfaces, executables), and
                the ruleset a <firewall> block would install
  -firewall-remove  take away the managed firewall (<firewall>) and exit
  -replay FILE  run a whole log or .pcap through the pipeline, print counters
  -test         run nothing, change no state: log each would-be action
  -debug        log every hit and decision    -quiet   log only errors
  -logjson      log JSON lines                -man     the full manual
  -version      print the version
  -init         write DIR/knockdaemon.conf and DIR/knockclient.conf (mode 0600,
                a new key, a managed firewall granting each -protect'ed port to
                knocking clients), never overwriting; print the next steps.
                Network mode (the default) needs -interface.
Exit status: 0 ok, 1 runtime failure, 2 usage or config error.`;

/** `knockd -man`: the manual shipped in `man/knockd.txt`. */
export function readManual(): string {
  return readFileSync(
    new URL("../man/knockd.txt", import.meta.url),
    "utf8",
  ).trimEnd();
}

/** The version of the `@portknock/knockd` package this is. */
export function readVersion(): string {
  const pkg = JSON.parse(
    readFileSync(new URL("../package.json", import.meta.url), "utf8"),
  ) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}
