/**
 * The statefile format (spec: daemon.md §6–7), version 1. Pure. A JSON object:
 * ```json
 * { "format": "portknock-state", "version": 1, "savedAtMs": 1700000000000,
 *   "state":   [[["10.1.1.1", "visits", "num"], 3]],
 *   "pending": [{ "id": "…", "action": "knockdaemon.conf:12", "createdMs": 0, "dueMs": 0,
 *                 "commands": [["/sbin/iptables", "-D", "…"]], "startedMs": 0 }],
 *   "extras":  { "knockd.replay": … } }
 * ```
 * State is a list of `[path, value]` entries rather than nested objects, so no key is ever an
 * object property. `startedMs` (optional) marks a pending action whose commands were being run.
 */
import type { JsonValue, PendingAction, StateData } from "./state-data.ts";
import { createStateData, listEntries, setValue } from "./state-data.ts";
import { checkStatePath } from "./state-key.ts";

/** The `format` marker of a statefile. */
export const STATE_FORMAT = "portknock-state";
/** The statefile version this code writes and reads. */
export const STATE_VERSION = 1;

/** Serialises store contents to statefile text. */
export function encodeStateFile(data: StateData, savedAtMs: number): string {
  const doc = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    savedAtMs,
    state: listEntries(data),
    pending: [...data.pending.values()],
    extras: Object.fromEntries(data.extras),
  };
  return JSON.stringify(doc, null, 1) + "\n";
}

/** Result of `decodeStateFile`: contents, or why the file is corrupt; `dropped` lists bad entries. */
export type DecodeStateResult =
  | { ok: true; data: StateData; dropped: string[] }
  | { ok: false; reason: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Reads statefile text. Invalid JSON, a foreign `format` or an unknown `version` make the file
 * corrupt; single bad entries (an unsafe key path, a malformed pending action) are dropped and
 * described in `dropped`. Empty text is an empty store. Never throws.
 */
export function decodeStateFile(text: string): DecodeStateResult {
  const data = createStateData();
  if (text.trim() === "") return { ok: true, data, dropped: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `not valid JSON (${detail})` };
  }
  if (!isRecord(doc) || doc.format !== STATE_FORMAT) {
    return { ok: false, reason: `not a ${STATE_FORMAT} file` };
  }
  if (doc.version !== STATE_VERSION) {
    return {
      ok: false,
      reason: `version ${JSON.stringify(doc.version)} is not ${STATE_VERSION}`,
    };
  }
  const { state = [], pending = [], extras = {} } = doc;
  if (!Array.isArray(state) || !Array.isArray(pending) || !isRecord(extras)) {
    return { ok: false, reason: "state, pending or extras has the wrong type" };
  }
  const dropped: string[] = [];
  state.forEach((entry: unknown, i) => {
    const problem = stateEntryProblem(entry);
    if (problem != null) dropped.push(`state entry ${i}: ${problem}`);
    else {
      const [path, value] = entry as [string[], string | number];
      setValue(data, path, value);
    }
  });
  pending.forEach((entry: unknown, i) => {
    if (isPendingAction(entry)) data.pending.set(entry.id, entry);
    else dropped.push(`pending entry ${i}: malformed`);
  });
  for (const [key, value] of Object.entries(extras)) {
    data.extras.set(key, value as JsonValue);
  }
  return { ok: true, data, dropped };
}

function stateEntryProblem(entry: unknown): string | undefined {
  if (!Array.isArray(entry) || entry.length !== 2)
    return "not a [path, value] pair";
  const [path, value] = entry as [unknown, unknown];
  if (!Array.isArray(path) || !path.every((k) => typeof k === "string")) {
    return "path is not a list of strings";
  }
  if (
    typeof value !== "string" &&
    !(typeof value === "number" && Number.isFinite(value))
  ) {
    return "value is not a string or a number";
  }
  return checkStatePath(path);
}

function isPendingAction(v: unknown): v is PendingAction {
  return (
    isRecord(v) &&
    typeof v.id === "string" &&
    v.id !== "" &&
    typeof v.action === "string" &&
    typeof v.createdMs === "number" &&
    typeof v.dueMs === "number" &&
    Number.isFinite(v.dueMs) &&
    (v.startedMs === undefined ||
      (typeof v.startedMs === "number" && Number.isFinite(v.startedMs))) &&
    Array.isArray(v.commands) &&
    v.commands.every(
      (argv) =>
        Array.isArray(argv) &&
        argv.length > 0 &&
        argv.every((w) => typeof w === "string"),
    )
  );
}
