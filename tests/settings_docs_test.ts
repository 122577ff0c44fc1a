import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { settingList } from "../server/settings.ts";
import {
  GENERATED_TABLES,
  helpText,
  tableBetweenMarkers,
} from "../server/settings_docs.ts";

Deno.test("the settings' help and tables match their declarations", async (t) => {
  await t.step(
    "--help names every flag and variable with its shown default",
    () => {
      const help = helpText();
      for (const { setting } of settingList()) {
        assert.ok(help.includes(`--${setting.flag}`), setting.flag);
        assert.ok(
          help.includes(
            `Variable ${setting.env}; default ${setting.shownDefault}; ${setting.allowed}.`,
          ),
          setting.env,
        );
        if (setting.type === "boolean") {
          assert.ok(help.includes(`--no-${setting.flag}`), setting.flag);
        }
      }
      assert.match(help, /--help/);
      assert.match(help, /--version/);
    },
  );

  await t.step(
    "the README and docs/security.md tables match the declarations cell for cell",
    async () => {
      for (const { file, name, rows } of GENERATED_TABLES) {
        const text = await Deno.readTextFile(
          new URL(`../${file}`, import.meta.url),
        );
        assert.deepEqual(
          tableBetweenMarkers(text, name),
          rows(),
          `${file} is out of date: run deno task docs`,
        );
      }
    },
  );

  await t.step(
    "the compile task's --allow-env list permits every declared variable",
    () => {
      const allowEnv = denoJson.tasks.compile.split(" ")
        .find((word) => word.startsWith("--allow-env="));
      assert.ok(allowEnv, "the compile task has an --allow-env list");
      const entries = allowEnv.slice("--allow-env=".length).split(",");
      const permits = (name: string) =>
        entries.some((entry) =>
          entry.endsWith("*")
            ? name.startsWith(entry.slice(0, -1))
            : name === entry
        );
      for (const { setting } of settingList()) {
        assert.ok(
          permits(setting.env),
          `the binary cannot read ${setting.env}`,
        );
      }
    },
  );
});
