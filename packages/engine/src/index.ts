// @portknock/engine: turns an accepted knock into effects (spec: daemon.md §3–7). The
// documentation of each export is at its definition.
export { compileActions } from "./compile.ts";
export type {
  CompileOptions,
  CompileResult,
  CompiledRules,
} from "./compile.ts";
export { createEngine } from "./engine.ts";
export type {
  Engine,
  EngineDeps,
  EngineOptions,
  EngineCounters,
  AcceptResult,
  AcceptContext,
  ActionOutcome,
  ActionStatus,
  CommandOutcome,
  StartResult,
} from "./engine-types.ts";
export type {
  KnockVariables,
  VariableKind,
  VariableValue,
} from "./variables.ts";
export { spawnRunner } from "./runner.ts";
export { checkExecutable } from "./executable.ts";
export type { ExecutableProblem } from "./executable.ts";
export type {
  RunCommand,
  RunOptions,
  RunResult,
  SpawnRunnerOptions,
} from "./runner.ts";
export { createMemoryStore } from "./state-store.ts";
export type {
  StateStore,
  StateValue,
  PendingAction,
  JsonValue,
} from "./state-store.ts";
export { createFileStore } from "./file-store.ts";
export type {
  FileStateStore,
  FileStoreOptions,
  FileStoreStats,
} from "./file-store.ts";
export { isGrantableAddress } from "./grant.ts";
export type {
  GrantFn,
  GrantRequest,
  GrantResult,
  GrantOutcome,
} from "./grant.ts";
export { EngineError, StoreError } from "./errors.ts";
export type {
  LoadCode,
  RefusalCode,
  CommandFailureCode,
  StoreCode,
  Refusal,
} from "./errors.ts";
