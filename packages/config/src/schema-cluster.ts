/**
 * The `<cluster>` block (issue #19): the Redis (or Valkey) several gateways share. Pure: the URL,
 * name and prefix are checked here with the same rules as `@portknock/cluster`'s `redisOptions`
 * and `createClusterLink` (config is a lower layer and must not import it), and the password and
 * CA files come in through the `readFile` callback (`loadDaemonConfig` gives the file-system one).
 */
import { quoteValue } from "@portknock/core";
import type { GeneralBlock, GeneralValue } from "./general-tree.ts";
import type { ClusterConfig, LocatedText } from "./types.ts";
import type { SectionReader, Sink } from "./schema-reader.ts";
import { blockReader } from "./schema-blocks.ts";

/** A file that a config value names (`passwordfile`, `tlsca`), as a `ReadFileFn` read it. */
export interface ReferencedFile {
  /** The path read: a relative path resolved against the directory of the naming file. */
  file: string;
  text: string;
  /** The permission bits (`st_mode & 0o7777`): a world-readable password file is refused. */
  mode: number;
}

/**
 * Reads a file named by a value written in `fromFile` (a relative `path` is relative to the
 * directory of `fromFile`). Returns (or throws) an `Error` when it cannot, never blocks on a FIFO.
 */
export type ReadFileFn = (
  path: string,
  fromFile: string,
) => ReferencedFile | Error;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Why `text` is not a Redis URL `@portknock/cluster` accepts, or `undefined` when it is one:
 * `redis://` or `rediss://`, a host, a port 1–65535, a database 0–15 as the path, no password,
 * query or fragment (the rules of its `redisOptions`). The reason never repeats a password.
 */
export function checkRedisUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL (redis://host:port/db, rediss://host:port/db or unix:///path/redis.sock), got ${quoteValue(redactUserinfo(text))}`;
  }
  // Of what did parse, only the scheme, host and path (which may still hold a misplaced password).
  const shown = redactUserinfo(`${url.protocol}//${url.host}${url.pathname}`);
  if (
    url.protocol !== "redis:" &&
    url.protocol !== "rediss:" &&
    url.protocol !== "unix:"
  ) {
    return `${shown}: the scheme must be redis://, rediss:// (TLS) or unix:// (a local socket)`;
  }
  if (url.password !== "") {
    return `${shown}: a password in the URL ends up in logs and process lists: use passwordfile`;
  }
  if (url.protocol === "unix:") return checkSocketUrl(url, shown);
  if (url.hostname === "") return `${shown}: no host`;
  if (url.search !== "" || url.hash !== "") {
    return `${shown}: query and fragment are not supported`;
  }
  const port = url.port === "" ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return `${shown}: the port must be 1-65535`;
  }
  const path = url.pathname.replace(/^\//, "");
  if (!/^\d{0,2}$/.test(path) || (path !== "" && Number(path) > 15)) {
    return `${shown}: the path must be a database number 0-15`;
  }
  return undefined;
}

/**
 * `text` with everything from the first `//` to the last `@` replaced by `…` (where a URL's user
 * and password are), so that no message repeats a password, however malformed the URL.
 */
function redactUserinfo(text: string): string {
  return text.replace(/\/\/.*@/s, "//…@");
}

/**
 * `unix:///path/redis.sock` (Redis' `unixsocket`): an absolute path, no host or port, database 0
 * (a socket URL has no place for one), no query or fragment.
 */
function checkSocketUrl(url: URL, shown: string): string | undefined {
  if (url.host !== "") {
    return `${shown}: a unix:// socket has no host: unix:///path/redis.sock`;
  }
  if (url.search !== "" || url.hash !== "") {
    return `${shown}: query and fragment are not supported`;
  }
  if (url.pathname === "/" || url.pathname.endsWith("/")) {
    return `${shown}: the path of the socket is missing`;
  }
  return undefined;
}

/** Reads `<cluster>`'s files through `readFile`; problems are diagnostics at the value. */
interface FileContext {
  r: SectionReader<GeneralValue>;
  readFile: ReadFileFn | undefined;
}

/** `readFile(v)`, or the reason it failed (already reported with `code`). */
function readNamedFile(
  ctx: FileContext,
  v: LocatedText,
  code: "CONFIG_CLUSTER_PASSWORD_UNREADABLE" | "CONFIG_CLUSTER_BAD_TLSCA",
  key: string,
): ReferencedFile | undefined {
  if (ctx.readFile === undefined) {
    ctx.r.error(
      code,
      v.where,
      `${key} ${quoteValue(v.text)} cannot be read: this parse has no file access (loadDaemonConfig reads it)`,
    );
    return undefined;
  }
  let got: ReferencedFile | Error;
  try {
    got = ctx.readFile(v.text, v.where.file);
  } catch (cause) {
    got = cause instanceof Error ? cause : new Error(String(cause));
  }
  if (got instanceof Error) {
    ctx.r.error(
      code,
      v.where,
      `${key} ${quoteValue(v.text)} cannot be read: ${got.message}`,
    );
    return undefined;
  }
  return got;
}

/** `passwordfile`: read, refused when world-readable, one trailing newline removed. */
function readPassword(
  ctx: FileContext,
  v: LocatedText,
): { password: string; passwordFile: string } | undefined {
  const f = readNamedFile(
    ctx,
    v,
    "CONFIG_CLUSTER_PASSWORD_UNREADABLE",
    "passwordfile",
  );
  if (!f) return undefined;
  if ((f.mode & 0o004) !== 0) {
    ctx.r.error(
      "CONFIG_CLUSTER_PASSWORD_EXPOSED",
      v.where,
      `passwordfile ${f.file} is readable by every user (mode ${(f.mode & 0o777).toString(8).padStart(4, "0")}): chmod o-rwx it (0600, or 0640 with group portknock)`,
    );
    return undefined;
  }
  const password = f.text.replace(/\r?\n$/, "");
  if (password === "" || /[\r\n]/.test(password)) {
    ctx.r.error(
      "CONFIG_CLUSTER_BAD_PASSWORD",
      v.where,
      password === ""
        ? `passwordfile ${f.file} is empty: it must hold the Redis password on one line`
        : `passwordfile ${f.file} has more than one line: it must hold the Redis password on one line`,
    );
    return undefined;
  }
  return { password, passwordFile: f.file };
}

/** `tlsca`: only with `rediss://`; a file holding a PEM certificate. */
function readTlsCa(
  ctx: FileContext,
  v: LocatedText,
  url: string | undefined,
): { tlsCa: string; tlsCaFile: string } | undefined {
  if (url !== undefined && !url.toLowerCase().startsWith("rediss:")) {
    ctx.r.error(
      "CONFIG_CLUSTER_TLSCA_NO_TLS",
      v.where,
      "tlsca verifies a TLS server, but redis = … is not rediss://: use rediss:// or drop tlsca",
    );
    return undefined;
  }
  const f = readNamedFile(ctx, v, "CONFIG_CLUSTER_BAD_TLSCA", "tlsca");
  if (!f) return undefined;
  if (!f.text.includes("-----BEGIN CERTIFICATE-----")) {
    ctx.r.error(
      "CONFIG_CLUSTER_BAD_TLSCA",
      v.where,
      `tlsca ${f.file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
    return undefined;
  }
  return { tlsCa: f.text, tlsCaFile: f.file };
}

/** A required text key: its value, or `undefined` after `CONFIG_MISSING_KEY` / an empty value. */
function required(
  r: SectionReader<GeneralValue>,
  block: GeneralBlock,
  key: string,
  what: string,
): GeneralValue | undefined {
  const v = r.text(key);
  if (v === undefined) {
    r.error("CONFIG_MISSING_KEY", block.where, `<cluster> needs ${what}`);
  }
  return v?.text === "" ? undefined : v;
}

function checked(
  r: SectionReader<GeneralValue>,
  v: GeneralValue | undefined,
  test: (text: string) => string | undefined,
  code:
    | "CONFIG_CLUSTER_BAD_URL"
    | "CONFIG_CLUSTER_BAD_NAME"
    | "CONFIG_CLUSTER_BAD_PREFIX",
): string | undefined {
  if (v === undefined) return undefined;
  const reason = test(v.text);
  if (reason === undefined) return v.text;
  r.error(code, v.where, reason);
  return undefined;
}

/**
 * Read the `<cluster>` block(s) of the file (at most one: `CONFIG_REPEATED_BLOCK`). Absent:
 * `undefined`. With errors (`CONFIG_CLUSTER_*`, `CONFIG_MISSING_KEY`, `CONFIG_BAD_DURATION`) the
 * diagnostics are in `sink` and the result is `undefined` when `redis` or `name` is unusable.
 */
export function readCluster(
  blocks: readonly GeneralBlock[],
  sink: Sink,
  readFile: ReadFileFn | undefined,
): ClusterConfig | undefined {
  const [block, again] = blocks;
  if (again && block) {
    sink.diagnostics.push({
      code: "CONFIG_REPEATED_BLOCK",
      severity: "error",
      message: `<cluster> may appear only once; the first is at line ${block.where.line}`,
      where: again.where,
    });
  }
  if (!block) return undefined;
  const r = blockReader(block, sink);
  const urlValue = required(
    r,
    block,
    "redis",
    "redis = redis://HOST[:PORT][/DB] (or rediss:// for TLS)",
  );
  const url = checked(r, urlValue, checkRedisUrl, "CONFIG_CLUSTER_BAD_URL");
  const nameValue = required(
    r,
    block,
    "name",
    "name = NAME: this gateway's name, unique in the cluster",
  );
  const name = checked(
    r,
    nameValue,
    (t) =>
      NAME.test(t)
        ? undefined
        : `name must be 1-64 of A-Z a-z 0-9 _ . -, got ${quoteValue(t)}`,
    "CONFIG_CLUSTER_BAD_NAME",
  );
  const prefixValue = r.text("prefix");
  const prefix =
    prefixValue === undefined || prefixValue.text === ""
      ? "portknock"
      : checked(
          r,
          prefixValue,
          (t) =>
            PREFIX.test(t)
              ? undefined
              : `prefix must be 1-64 of A-Z a-z 0-9 _ . : -, got ${quoteValue(t)}`,
          "CONFIG_CLUSTER_BAD_PREFIX",
        );
  const budgetMs = r.duration("budget", "ms", 50, { minMs: 1, maxMs: 5000 });
  const ctx: FileContext = { r, readFile };
  const passwordValue = r.text("passwordfile");
  const password =
    passwordValue && passwordValue.text !== ""
      ? readPassword(ctx, passwordValue)
      : undefined;
  const tlsValue = r.text("tlsca");
  const tls =
    tlsValue && tlsValue.text !== ""
      ? readTlsCa(ctx, tlsValue, urlValue?.text)
      : undefined;
  r.finish();
  if (url === undefined || name === undefined || prefix === undefined) {
    return undefined;
  }
  return {
    where: block.where,
    url,
    name,
    prefix,
    budgetMs,
    ...(password ?? {}),
    ...(tls ?? {}),
  };
}
