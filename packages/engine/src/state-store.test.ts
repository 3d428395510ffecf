import { describeStateStore } from "../test/describe-state-store.ts";
import { createMemoryStore } from "./state-store.ts";

describeStateStore("memory", () => Promise.resolve(createMemoryStore()));
