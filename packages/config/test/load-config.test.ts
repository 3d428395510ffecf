import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  findConfigFile,
  loadClientConfig,
  loadDaemonConfig,
  loadDaemonConfigOrThrow,
} from "../src/index.ts";
import {
  configSearchPath,
  isReadableFile,
  loadConfig,
} from "../src/load-config.ts";
import { toPlainObject } from "../src/general-tree.ts";
import { tempDir } from "./fixtures.ts";

/** Write `files` (relative path → text) under `dir`, creating directories. */
function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
  }
}

describe("loadConfig: includes on disk", () => {
  it("resolves includes relative to the including file, and absolute ones", () => {
    const dir = tempDir();
    const abs = join(dir, "elsewhere", "abs.conf");
    writeTree(dir, {
      "etc/main.conf": `<<include conf.d/a.conf>>\n<<include ${abs}>>\ntop = 1\n`,
      "etc/conf.d/a.conf": "<<include b.conf>>\na = 1\n",
      "etc/conf.d/b.conf": "b = 2\n",
      "elsewhere/abs.conf": "abs = 3\n",
    });
    const r = loadConfig(join(dir, "etc", "main.conf"));
    expect(r.diagnostics).toEqual([]);
    expect(toPlainObject(r.tree)).toEqual({
      b: "2",
      a: "1",
      abs: "3",
      top: "1",
    });
    expect(r.files).toEqual([
      join(dir, "etc", "main.conf"),
      join(dir, "etc", "conf.d", "a.conf"),
      join(dir, "etc", "conf.d", "b.conf"),
      abs,
    ]);
    const b = r.tree.entries.get("b");
    expect(b?.kind === "values" && b.values[0]?.where).toEqual({
      kind: "config",
      file: join(dir, "etc", "conf.d", "b.conf"),
      line: 1,
      column: 5,
    });
  });

  it("reports an include cycle through real files, naming the chain", () => {
    const dir = tempDir();
    writeTree(dir, {
      "a.conf": "<<include sub/b.conf>>\n",
      "sub/b.conf": "x = 1\n<<include ../a.conf>>\n",
    });
    const r = loadConfig(join(dir, "a.conf"));
    expect(r.diagnostics.map((d) => [d.code, d.where])).toEqual([
      [
        "CONFIG_INCLUDE_CYCLE",
        {
          kind: "config",
          file: join(dir, "sub", "b.conf"),
          line: 2,
          column: 1,
        },
      ],
    ]);
    expect(r.diagnostics[0]?.message).toContain(
      `${join(dir, "a.conf")} → ${join(dir, "sub", "b.conf")} → ${join(dir, "a.conf")}`,
    );
  });

  it("reports a missing include with the including file and line", () => {
    const dir = tempDir();
    writeTree(dir, { "m.conf": "a = 1\n<<include nope.conf>>\n" });
    const r = loadConfig(join(dir, "m.conf"));
    expect(r.diagnostics.map((d) => [d.code, d.where])).toEqual([
      [
        "CONFIG_INCLUDE_FAILED",
        { kind: "config", file: join(dir, "m.conf"), line: 2, column: 1 },
      ],
    ]);
  });
});

describe("loadDaemonConfig / loadClientConfig", () => {
  it("loads a valid daemon config spread over includes", () => {
    const dir = tempDir();
    writeTree(dir, {
      "knockdaemon.conf":
        "knock = IP,PORT,CHECKSUM\n<<include span.conf>>\nkey = s3cr3t\n<actions>\n<<include actions.conf>>\n</actions>\n",
      "span.conf": "portspan = 1024-2047\n",
      "actions.conf":
        "<action>\ntemplate = t\n</action>\n<template t>\nsystem = /bin/true\n</template>\n",
    });
    const r = loadDaemonConfig(join(dir, "knockdaemon.conf"), {
      overrides: { debug: "yes" },
    });
    expect(r.diagnostics).toEqual([]);
    expect(r.config?.debug).toBe(true);
    expect(r.config?.where.get("portspan")?.file).toBe(join(dir, "span.conf"));
    expect(r.config?.actions.templates.get("t")?.where).toMatchObject({
      file: join(dir, "actions.conf"),
      line: 4,
    });
  });

  it("reports a missing file as CONFIG_NOT_FOUND, and throws with that code", () => {
    const path = join(tempDir(), "none.conf");
    expect(loadClientConfig(path).diagnostics.map((d) => d.code)).toEqual([
      "CONFIG_NOT_FOUND",
    ]);
    expect(loadConfig(path).diagnostics[0]?.where).toEqual({
      kind: "config",
      file: path,
      line: 0,
    });
    expect(() => loadDaemonConfigOrThrow(path)).toThrow(
      expect.objectContaining({ code: "CONFIG_NOT_FOUND" }) as Error,
    );
  });

  it("reports a directory as CONFIG_READ_FAILED, and invalid files as CONFIG_INVALID", () => {
    const dir = tempDir();
    expect(loadDaemonConfig(dir).diagnostics.map((d) => d.code)).toEqual([
      "CONFIG_READ_FAILED",
    ]);
    writeTree(dir, { "bad.conf": "iv = maybe\n" });
    let thrown: unknown;
    try {
      loadDaemonConfigOrThrow(join(dir, "bad.conf"));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).code).toBe("CONFIG_INVALID");
  });
});

describe("findConfigFile: the search order of config.md", () => {
  it("lists the places in order", () => {
    expect(
      configSearchPath("knockdaemon.conf", {
        home: "/home/u",
        binDir: "/opt/pk/bin",
      }),
    ).toEqual([
      "/home/u/.knockdaemon.conf",
      "/opt/pk/bin/knockdaemon.conf",
      "/opt/pk/bin/etc/knockdaemon.conf",
      "/opt/pk/etc/knockdaemon.conf",
      "/etc/portknock/knockdaemon.conf",
    ]);
  });

  it("returns the first readable file, for the daemon and the client", () => {
    const dir = tempDir();
    const home = join(dir, "home");
    const bin = join(dir, "opt", "bin");
    mkdirSync(home, { recursive: true });
    mkdirSync(bin, { recursive: true });
    const find = (name: string): string | undefined =>
      findConfigFile(name, {
        home,
        binDir: bin,
        // The real file system, but never the machine's own /etc/portknock.
        exists: (p) => p.startsWith(dir) && isReadableFile(p),
      });

    expect(find("knockdaemon.conf")).toBeUndefined();
    const order = [
      join(dir, "opt", "etc", "knockdaemon.conf"),
      join(bin, "etc", "knockdaemon.conf"),
      join(bin, "knockdaemon.conf"),
      join(home, ".knockdaemon.conf"),
    ];
    for (const path of order) {
      writeTree(dir, { [path.slice(dir.length + 1)]: "x = 1\n" });
      expect(find("knockdaemon.conf")).toBe(path);
    }
    expect(find("knockclient.conf")).toBeUndefined();
    writeTree(dir, { "opt/bin/etc/knockclient.conf": "x = 1\n" });
    expect(find("knockclient.conf")).toBe(join(bin, "etc", "knockclient.conf"));
  });

  it("skips a directory with the file's name", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "knockclient.conf"));
    writeTree(dir, { "etc/knockclient.conf": "x = 1\n" });
    expect(findConfigFile("knockclient.conf", { binDir: dir })).toBe(
      join(dir, "etc", "knockclient.conf"),
    );
  });
});
