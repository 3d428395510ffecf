/**
 * #19: the files `<cluster>` names, read by `loadDaemonConfig` from a real directory: the password
 * file (one trailing newline removed; refused when missing, not a regular file, world-readable,
 * empty or on several lines) and the CA of a `rediss://` server (a PEM certificate).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DaemonConfigResult } from "../src/index.ts";
import { loadDaemonConfig, readReferencedFile } from "../src/index.ts";
import { tempDir } from "./fixtures.ts";

const BASE = "knock = CLIENT,PORT\nportspan = 1024-33791\nkey = secret\n";
const PEM =
  "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZmFrZQ==\n-----END CERTIFICATE-----\n";

/** Writes `knockdaemon.conf` with a `<cluster>` block (lines 4–…) holding `lines`, and loads it. */
function load(dir: string, ...lines: string[]): DaemonConfigResult {
  const conf = join(dir, "knockdaemon.conf");
  writeFileSync(
    conf,
    `${BASE}<cluster>\nname = gw1\n${lines.join("\n")}\n</cluster>\n`,
  );
  return loadDaemonConfig(conf);
}

function errors(r: DaemonConfigResult): [string, number | string][] {
  return r.diagnostics
    .filter((d) => d.severity === "error")
    .map((d) => [
      d.code,
      d.where.kind === "config" ? d.where.line : d.where.kind,
    ]);
}

function secret(dir: string, name: string, text: string, mode = 0o600): void {
  writeFileSync(join(dir, name), text);
  // Not through writeFileSync's mode: the umask would change it.
  chmodSync(join(dir, name), mode);
}

describe("<cluster> passwordfile (#19)", () => {
  it("is read at load, one trailing newline removed; a relative path is relative to the config file", () => {
    const dir = tempDir();
    secret(dir, "redis.pass", "s3cr3t pass\n", 0o640);
    const r = load(
      dir,
      "redis = redis://127.0.0.1",
      "passwordfile = redis.pass",
    );
    expect(errors(r)).toEqual([]);
    expect(r.config?.cluster).toMatchObject({
      password: "s3cr3t pass",
      passwordFile: join(dir, "redis.pass"),
    });
    secret(dir, "crlf.pass", "p\r\n");
    const abs = load(
      dir,
      "redis = redis://127.0.0.1",
      `passwordfile = ${join(dir, "crlf.pass")}`,
    );
    expect(abs.config?.cluster?.password).toBe("p");
  });

  it("the password is never in a message", () => {
    const dir = tempDir();
    secret(dir, "open.pass", "hunter2\n", 0o644);
    const r = load(dir, "redis = redis://h", "passwordfile = open.pass");
    expect(errors(r)).toEqual([["CONFIG_CLUSTER_PASSWORD_EXPOSED", 7]]);
    expect(r.diagnostics.map((d) => d.message).join("\n")).not.toContain(
      "hunter2",
    );
    expect(
      r.diagnostics.find((d) => d.code === "CONFIG_CLUSTER_PASSWORD_EXPOSED")
        ?.message,
    ).toContain("0644");
  });

  it.each([
    [
      "missing",
      "CONFIG_CLUSTER_PASSWORD_UNREADABLE",
      (dir: string) => void dir,
    ],
    [
      "a directory",
      "CONFIG_CLUSTER_PASSWORD_UNREADABLE",
      (dir: string) => mkdirSync(join(dir, "redis.pass")),
    ],
    [
      "a FIFO",
      "CONFIG_CLUSTER_PASSWORD_UNREADABLE",
      (dir: string) => void execFileSync("mkfifo", [join(dir, "redis.pass")]),
    ],
    [
      "world-readable",
      "CONFIG_CLUSTER_PASSWORD_EXPOSED",
      (dir: string) => secret(dir, "redis.pass", "p\n", 0o604),
    ],
    [
      "empty",
      "CONFIG_CLUSTER_BAD_PASSWORD",
      (dir: string) => secret(dir, "redis.pass", ""),
    ],
    [
      "only a newline",
      "CONFIG_CLUSTER_BAD_PASSWORD",
      (dir: string) => secret(dir, "redis.pass", "\n"),
    ],
    [
      "two lines",
      "CONFIG_CLUSTER_BAD_PASSWORD",
      (dir: string) => secret(dir, "redis.pass", "p\nq\n"),
    ],
  ])("%s: %s at the passwordfile line", (_what, code, make) => {
    const dir = tempDir();
    make(dir);
    const r = load(dir, "redis = redis://h", "passwordfile = redis.pass");
    expect(errors(r)).toEqual([[code, 7]]);
    expect(r.config).toBeUndefined();
  });
});

describe("<cluster> tlsca (#19)", () => {
  it("with rediss://, the PEM text is read at load", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "ca.pem"), PEM);
    const r = load(dir, "redis = rediss://redis.example", "tlsca = ca.pem");
    expect(errors(r)).toEqual([]);
    expect(r.config?.cluster).toMatchObject({
      tlsCa: PEM,
      tlsCaFile: join(dir, "ca.pem"),
    });
  });

  it("missing, or not a PEM certificate: CONFIG_CLUSTER_BAD_TLSCA", () => {
    const dir = tempDir();
    expect(errors(load(dir, "redis = rediss://h", "tlsca = ca.pem"))).toEqual([
      ["CONFIG_CLUSTER_BAD_TLSCA", 7],
    ]);
    writeFileSync(join(dir, "ca.pem"), "not a certificate\n");
    expect(errors(load(dir, "redis = rediss://h", "tlsca = ca.pem"))).toEqual([
      ["CONFIG_CLUSTER_BAD_TLSCA", 7],
    ]);
  });

  it("with redis:// (no TLS): CONFIG_CLUSTER_TLSCA_NO_TLS", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "ca.pem"), PEM);
    expect(errors(load(dir, "redis = redis://h", "tlsca = ca.pem"))).toEqual([
      ["CONFIG_CLUSTER_TLSCA_NO_TLS", 7],
    ]);
  });
});

describe("readReferencedFile (#19)", () => {
  it("gives the resolved path, the text and the permission bits; an Error when it cannot", () => {
    const dir = tempDir();
    secret(dir, "f", "x", 0o640);
    expect(readReferencedFile("f", join(dir, "knockdaemon.conf"))).toEqual({
      file: join(dir, "f"),
      text: "x",
      mode: 0o640,
    });
    expect(readReferencedFile("nope", join(dir, "k.conf"))).toBeInstanceOf(
      Error,
    );
  });
});
