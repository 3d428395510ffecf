import { fileURLToPath } from "node:url";
import { describeCodesTable } from "@portknock/test-utils";
import { KNOCKD_CODES } from "../src/index.ts";

describeCodesTable(
  "knockd",
  fileURLToPath(new URL("../src/", import.meta.url)),
  KNOCKD_CODES,
);
