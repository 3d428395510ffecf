import { findBacktrackingHazard } from "@portknock/core";
import { describe, expect, it } from "vitest";
import { FULL_RECORD_SOURCE } from "./builtin-iptables.ts";

describe("the built-in iptables format", () => {
  it("passes the backtracking check with its hot-path regex", () => {
    // The other regexes (IPTABLES_REGEX_SOURCES) are the tests' oracle: their lookbehinds scan
    // back to the line's start, so they are quadratic and never run on the daemon's input.
    expect(findBacktrackingHazard(FULL_RECORD_SOURCE)).toBeUndefined();
  });
});
