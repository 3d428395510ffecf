// @portknock/engine: turns an accepted knock into effects (spec: daemon.md §3–7).
export { compileActions } from "./compile.ts";
export type {
  CompileOptions,
  CompileResult,
  CompiledRules,
  CompiledAction,
  CompiledTemplate,
  CompiledCommand,
} from "./compile.ts";
export { createEngine, DEFAULT_COMMAND_TIMEOUT_MS } from "./engine.ts";
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
export { systemClock, systemTimers } from "@portknock/core";
export type { Clock, Timers, TimerHandle } from "@portknock/core";
export { spawnRunner } from "./runner.ts";
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
export { decodeStateFile, encodeStateFile } from "./state-file-format.ts";
export type { DecodeStateResult } from "./state-file-format.ts";
export { checkStateKey, checkStatePath } from "./state-key.ts";
export { parseCondition } from "./parse-condition.ts";
export type { ParseOptions, ParseConditionResult } from "./parse-condition.ts";
export { parseStateStatements } from "./parse-state.ts";
export type { ParseStateResult } from "./parse-state.ts";
export { parseCommand } from "./parse-command.ts";
export type {
  CommandPart,
  CommandWord,
  ParseCommandResult,
} from "./parse-command.ts";
export type { Expr, BinaryOp, StateKey, StateStatement } from "./ast.ts";
export {
  computeVariables,
  knownVariables,
  isValidValue,
  COMPUTED_VARIABLES,
} from "./variables.ts";
export type {
  KnockVariables,
  VariableKind,
  VariableValue,
} from "./variables.ts";
export { parseCidr, isInside } from "./ip-address.ts";
export type { Cidr, IpBytes } from "./ip-address.ts";
export { EngineError, StoreError } from "./errors.ts";
export type {
  LoadCode,
  RefusalCode,
  CommandFailureCode,
  StoreCode,
  Refusal,
} from "./errors.ts";
