export {
  rootTestsUnavailable,
  gateRootTests,
  createNetns,
  execIn,
} from "./netns.ts";
export type { Netns } from "./netns.ts";
