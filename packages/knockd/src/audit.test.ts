import { describe, expect, it } from "vitest";
import { isUntaggedJournal } from "./audit.ts";

describe("isUntaggedJournal (issue #16)", () => {
  it.each([
    ["journalctl -f -n 0 -o cat", true],
    ["/usr/bin/journalctl -f --output=cat", true],
    ["journalctl -f --output cat", true],
    ["journalctl -fo cat", true],
    ["journalctl -ocat -f", true],
    ["journalctl -k -f -n 0 -o cat", false],
    ["journalctl -kf -o cat", false],
    ["journalctl --dmesg -o cat", false],
    ["journalctl -o cat _TRANSPORT=kernel", false],
    ["journalctl -f -o short-iso", false],
    ["journalctl -o cat -o short-iso", false],
    ["tail -F -o cat", false],
    ["xjournalctl -o cat", false],
  ])("%s: %s", (command, untagged) => {
    expect(isUntaggedJournal(command.split(" "))).toBe(untagged);
  });
});
