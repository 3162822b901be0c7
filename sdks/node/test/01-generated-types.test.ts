// The SDK's types come from docs/openapi.json: regenerating them must give the committed file,
// or someone changed the API without running `npm run generate`.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { PACKAGE_DIR, REPO_DIR } from "./helpers.js";

test("src/generated/openapi.ts is what `npm run generate` makes of docs/openapi.json", async () => {
  const scratch = await mkdtemp(path.join(tmpdir(), "ludex-openapi-"));
  try {
    const output = path.join(scratch, "openapi.ts");
    const generate = JSON.parse(await readFile(path.join(PACKAGE_DIR, "package.json"), "utf8")).scripts.generate as string;
    const args = generate
      .replace(/^openapi-typescript /, "")
      .replace("src/generated/openapi.ts", output)
      .split(" ");
    const cli = path.join(PACKAGE_DIR, "node_modules/openapi-typescript/bin/cli.js");
    await promisify(execFile)(process.execPath, [cli, ...args], { cwd: PACKAGE_DIR });
    const fresh = await readFile(output, "utf8");
    const committed = await readFile(path.join(PACKAGE_DIR, "src/generated/openapi.ts"), "utf8");
    assert.ok(fresh.includes('"/v1/projects/{projectId}/players/{playerId}/xp"'), "the generator read docs/openapi.json");
    assert.ok(
      fresh === committed,
      `src/generated/openapi.ts is stale: ${path.relative(REPO_DIR, path.join(REPO_DIR, "docs/openapi.json"))} changed; run \`npm run generate\` in sdks/node and commit the result`,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
