import { describe, expect, it } from "vitest";
import { parseClientConfig, parseClientConfigOrThrow } from "./schema.ts";
import type { ClientConfigResult } from "./schema.ts";

const BASE = "knock = IP,PORT,CHECKSUM\nportspan = 1024-2047\nkey = s3cr3t\n";

function client(
  text: string,
  overrides?: Record<string, string>,
): ClientConfigResult {
  return parseClientConfig(text, {
    file: "knockclient.conf",
    ...(overrides ? { overrides } : {}),
  });
}

function errors(r: ClientConfigResult): [string, number | string][] {
  return r.diagnostics
    .filter((d) => d.severity === "error")
    .map((d) => [
      d.code,
      d.where.kind === "config" ? d.where.line : d.where.kind,
    ]);
}

describe("parseClientConfig", () => {
  it("applies the client defaults", () => {
    const r = client(BASE);
    expect(r.diagnostics).toEqual([]);
    expect(r.config).toMatchObject({
      knock: "IP,PORT,CHECKSUM",
      portspan: "1024-2047",
      key: "s3cr3t",
      encrypt: true,
      cipher: "Blowfish",
      iv: false,
      padding: "right",
      format: "compat",
      logtofile: false,
      protocol: "tcp",
      method: "connect",
      knockDelayMs: 10,
    });
    expect(r.config?.flags.size).toBe(0);
    expect(r.config?.remote).toBeUndefined();
  });

  it("reads every client key", () => {
    const c = parseClientConfigOrThrow(
      BASE +
        "remote = knock.example.org\nclient = 10.3.2.1\nport = 3306\nflag0 = 5\nFLAG12 = 255\n" +
        "time = 1100000000\nmask = 24\nlogtofile = yes\nlogfile = /tmp/fw\nfileformat = {port}\n" +
        "protocol = UDP\nmethod = raw\nknockdelay = 50\nkeysalt = x\nivvalue = hex:0001020304050607\n" +
        "padding = left\ncipher = des\nformat = compat\ntest = yes\njson = no\n",
      { file: "knockclient.conf" },
    );
    expect(c).toMatchObject({
      remote: "knock.example.org",
      client: "10.3.2.1",
      port: 3306,
      time: 1_100_000_000,
      mask: 24,
      logtofile: true,
      logfile: "/tmp/fw",
      fileformat: "{port}",
      protocol: "udp",
      method: "raw",
      knockDelayMs: 50,
      keysalt: "x",
      ivvalue: "hex:0001020304050607",
      padding: "left",
      cipher: "DES",
      test: true,
      json: false,
    });
    expect([...c.flags]).toEqual([
      [0, 5],
      [12, 255],
    ]);
  });

  it("checks ranges of numeric fields", () => {
    expect(
      errors(
        client(
          BASE +
            "port = 70000\nflag1 = 256\nmask = 33\ntime = -1\nknockdelay = x\n",
        ),
      ),
    ).toEqual([
      ["CONFIG_BAD_INTEGER", 4],
      ["CONFIG_BAD_INTEGER", 5],
      ["CONFIG_BAD_INTEGER", 6],
      ["CONFIG_BAD_INTEGER", 7],
      ["CONFIG_BAD_INTEGER", 8],
    ]);
  });

  it("rejects daemon keys, unknown flags and blocks", () => {
    expect(
      errors(
        client(BASE + "runmode = file\nflag256 = 1\n<actions>\n</actions>\n"),
      ),
    ).toEqual([
      ["CONFIG_UNKNOWN_KEY", 4],
      ["CONFIG_UNKNOWN_KEY", 5],
      ["CONFIG_UNKNOWN_BLOCK", 6],
    ]);
  });

  it("takes every key from overrides when there is no file content", () => {
    const r = parseClientConfig("", {
      file: "<command line>",
      overrides: {
        knock: "IP,PORT",
        portspan: "1-256",
        encrypt: "no",
        port: "22",
      },
    });
    expect(r.diagnostics).toEqual([]);
    expect(r.config).toMatchObject({ port: 22, encrypt: false });
    expect(r.config?.where.size).toBe(0);
  });

  it("requires knock, portspan and key", () => {
    expect(errors(client("remote = h\n"))).toEqual([
      ["CONFIG_MISSING_KEY", 0],
      ["CONFIG_MISSING_KEY", 0],
      ["CONFIG_MISSING_KEY", 0],
    ]);
  });
});
