import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { SETTING_GROUPS } from "../server/setting_parsers.ts";
import { parseCommandLine, settingList } from "../server/settings.ts";
import {
  GENERATED_TABLES,
  HELP_EXAMPLES,
  helpText,
  tableBetweenMarkers,
} from "../server/settings_docs.ts";
import { noEnv } from "../testkit/settings.ts";

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
    "--help lists the basic settings first, then one group after another",
    () => {
      const help = helpText();
      const titles = Object.values(SETTING_GROUPS).map((title) =>
        help.indexOf(`\n${title}:\n`)
      );
      assert.ok(titles.every((at) => at > 0), "every group has its heading");
      assert.deepEqual(titles, [...titles].sort((a, b) => a - b));
      const basic = help.slice(titles[0], titles[1]);
      for (const flag of ["--port", "--host", "--db", "--workers"]) {
        assert.ok(basic.includes(`  ${flag} <value>`), flag);
      }
      // Each setting is listed once, under its own group's heading.
      for (const { setting } of settingList()) {
        const line = new RegExp(`\n  --${setting.flag}[ ,]`, "g");
        const places = [...help.matchAll(line)].map((match) => match.index);
        assert.equal(places.length, 1, setting.flag);
        const at = places[0] ?? -1;
        const heading = Object.keys(SETTING_GROUPS).indexOf(setting.group);
        assert.ok(at > (titles[heading] ?? Infinity), setting.flag);
        assert.ok(at < (titles[heading + 1] ?? Infinity), setting.flag);
      }
    },
  );

  await t.step(
    "--help ends with three examples that the command line accepts",
    () => {
      const help = helpText();
      assert.equal(HELP_EXAMPLES.length, 3);
      const examples = help.slice(help.indexOf("\nExamples:\n"));
      for (const { args } of HELP_EXAMPLES) {
        assert.ok(examples.includes(`  chat-server ${args.join(" ")}\n`));
        assert.equal(
          parseCommandLine(args, noEnv).kind,
          "serve",
          args.join(" "),
        );
      }
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
