/**
 * `knockd -init … -dir DIR` (issue #17): writes a working pair of configurations for a gateway
 * (`DIR/knockdaemon.conf`, `DIR/knockclient.conf`, mode 0600, a fresh key in both) and prints
 * the next steps. Never overwrites: each file is created with O_EXCL, and when one cannot be
 * written the other is taken away again, so a failed run leaves nothing behind.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  openSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { resolve } from "node:path";
import type { Diagnostic, Io } from "@portknock/core";
import {
  EXIT_OK,
  EXIT_RUNTIME,
  EXIT_USAGE,
  InternalError,
  describeFileKind,
  formatDiagnostic,
  quoteValue,
} from "@portknock/core";
import { compileKnockConfig, generateSealedKey } from "@portknock/codec";
import { parseClientConfig, parseDaemonConfig } from "@portknock/config";
import { compileActions } from "@portknock/engine";
import type { DaemonArgs } from "../argv.ts";
import type { KnockdCode } from "../codes.ts";
import { planInit } from "../init-plan.ts";
import type { InitPlan } from "../init-plan.ts";
import {
  INIT_FILES,
  renderClientConfig,
  renderDaemonConfig,
  renderNextSteps,
} from "../init-render.ts";

/** Runs `-init`: exit 0 written, 2 a bad flag or `-dir`, 1 a file exists or cannot be written. */
export function runInit(args: DaemonArgs, io: Io): number {
  const { plan, diagnostics } = planInit(args);
  const report = (d: Diagnostic): void =>
    void io.stderr.write(`knockd: ${formatDiagnostic(d)}\n`);
  diagnostics.forEach(report);
  if (plan == null) return EXIT_USAGE;
  const dirProblem = checkDir(plan.dir);
  if (dirProblem != null) {
    report(dirProblem);
    return EXIT_USAGE;
  }
  // Absolute paths: the next steps and the header comments are copied from anywhere.
  const paths = {
    daemon: resolve(plan.dir, INIT_FILES.daemon),
    client: resolve(plan.dir, INIT_FILES.client),
  };
  const key = generateSealedKey();
  const writtenAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const texts = {
    daemon: renderDaemonConfig(plan, key, writtenAt, paths.daemon),
    client: renderClientConfig(plan, key, writtenAt),
  };
  selfCheck(plan, texts);
  const written: string[] = [];
  for (const which of ["daemon", "client"] as const) {
    const failure = writeNew(paths[which], texts[which]);
    if (failure != null) {
      // Take back what this run wrote: a lone daemon file would hold a key no client has.
      for (const path of written) unlinkSync(path);
      io.stderr.write(`knockd: ${failure.code}: ${failure.message}\n`);
      return EXIT_RUNTIME;
    }
    written.push(paths[which]);
  }
  io.stdout.write(renderNextSteps(plan, paths) + "\n");
  return EXIT_OK;
}

function checkDir(dir: string): Diagnostic | undefined {
  const code: KnockdCode = "INIT_DIR_UNUSABLE";
  const problem = (why: string): Diagnostic => ({
    code,
    severity: "error",
    message: `-dir ${quoteValue(dir)} ${why}: give an existing directory (mkdir -p it first)`,
    where: { kind: "argv", flag: "-dir" },
  });
  // The path goes into the files' comments and the printed commands: one line each.
  if ([...dir].some((c) => c < " " || c === "\u007f")) {
    return problem("holds a control character");
  }
  try {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st === undefined) return problem("does not exist");
    if (!st.isDirectory()) return problem(`is ${describeFileKind(st)}`);
    return undefined;
  } catch (e) {
    return problem(`cannot be read (${(e as Error).message})`);
  }
}

/**
 * Creates `path` (O_EXCL, mode 0600 whatever the umask), writes and fsyncs `text`; the failure
 * with its code, else undefined. A partly written file is removed.
 */
function writeNew(
  path: string,
  text: string,
): { code: KnockdCode; message: string } | undefined {
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      0o600,
    );
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    return errno === "EEXIST"
      ? {
          code: "INIT_FILE_EXISTS",
          message: `${path} exists already: knockd -init overwrites nothing (move it away, or choose another -dir)`,
        }
      : {
          code: "INIT_WRITE_FAILED",
          message: `cannot create ${path}: ${(e as Error).message}`,
        };
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    return undefined;
  } catch (e) {
    closeSync(fd);
    unlinkSync(path);
    return {
      code: "INIT_WRITE_FAILED",
      message: `cannot write ${path}: ${(e as Error).message}`,
    };
  }
}

/**
 * The written texts must load as the daemon and the client load them; a finding here is a bug
 * of -init (the flags are checked already), reported before anything is written.
 */
function selfCheck(
  plan: InitPlan,
  texts: { daemon: string; client: string },
): void {
  const daemon = parseDaemonConfig(texts.daemon, { file: INIT_FILES.daemon });
  const client = parseClientConfig(texts.client, { file: INIT_FILES.client });
  const findings: Diagnostic[] = [...daemon.diagnostics, ...client.diagnostics];
  for (const config of [daemon.config, client.config]) {
    if (config == null) continue;
    const compiled = compileKnockConfig(config);
    for (const issue of compiled.issues) {
      findings.push({
        code: issue.code,
        severity: issue.severity,
        message: issue.message,
        where: { kind: "config", file: "(knock settings)", line: 0 },
      });
    }
  }
  if (daemon.config != null) {
    const actions = compileActions(daemon.config.actions, {
      fields: ["CLIENT", "PORT"],
      checkExecutables: false,
    });
    findings.push(...actions.diagnostics);
  }
  // Not even a warning: the files -init writes load cleanly.
  if (findings.length > 0) {
    throw new InternalError(
      `knockd -init would write a configuration that does not load (${plan.runmode} mode): ${findings.map((d) => formatDiagnostic(d)).join("; ")}`,
    );
  }
}
