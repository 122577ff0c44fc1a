/**
 * What the settings declarations say to people: the `--help` text, and the
 * markdown tables of the README and docs/security.md. Run as a script
 * (`deno task docs`) it rewrites those tables in place between their
 * `<!-- settings:… -->` markers; `tests/settings_docs_test.ts` fails when they
 * drift from the declarations.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { type Setting, SETTING_GROUPS } from "./setting_parsers.ts";
import { settingList } from "./settings.ts";

/** The server's version, from deno.json. */
export const VERSION: string = denoJson.version;

function flagSpelling(setting: Setting<unknown>): string {
  return setting.type === "boolean"
    ? `--${setting.flag}, --no-${setting.flag}`
    : `--${setting.flag} <value>`;
}

/** The text `--help` prints. */
export function helpText(program = "chat-server"): string {
  const lines = [
    `${program} ${VERSION}: real-time chat rooms over WebSocket, history in SQLite.`,
    "",
    `Usage: ${program} [options]`,
    "",
    "Every option can also be set by its environment variable; a flag wins",
    "over the variable, which wins over the default.",
    "",
  ];
  for (const [group, title] of Object.entries(SETTING_GROUPS)) {
    lines.push(`${title}:`);
    for (const { setting } of settingList()) {
      if (setting.group !== group) continue;
      lines.push(
        `  ${flagSpelling(setting)}`,
        `      ${setting.help}`,
        `      Variable ${setting.env}; default ${setting.shownDefault}; ${setting.allowed}.`,
      );
    }
    lines.push("");
  }
  lines.push(
    "Commands:",
    "  -h, --help",
    "      Print this help and exit.",
    "  --version",
    "      Print the version and exit.",
    "",
    "Examples:",
    ...HELP_EXAMPLES.flatMap(({ what, args }) => [
      `  # ${what}`,
      `  ${program} ${args.join(" ")}`,
    ]),
    "",
    "Exit status: 0 after a clean shutdown, 1 when the server cannot start, 2 for a bad option or value.",
  );
  return lines.join("\n");
}

/** The examples that end `--help`; a test parses each one's arguments. */
export const HELP_EXAMPLES: readonly {
  readonly what: string;
  readonly args: readonly string[];
}[] = [
  {
    what: "On this machine only, port 8080, the history in a file of its own:",
    args: ["--port", "8080", "--db", "/var/lib/chat/chat.db"],
  },
  {
    what: "On every interface, one isolate per CPU, under its public name:",
    args: [
      "--host",
      "0.0.0.0",
      "--workers",
      "auto",
      "--allowed-hosts",
      "chat.example.com",
    ],
  },
  {
    what: "One of several processes behind nginx, sharing rooms through Redis:",
    args: [
      "--port",
      "8001",
      "--redis",
      "redis://127.0.0.1:6379/0",
      "--trusted-proxies",
      "127.0.0.1",
    ],
  },
];

const code = (text: string) => `\`${text}\``;

/** The rows of the README's settings table, header first. */
export function settingsTableRows(): string[][] {
  return [
    ["Flag", "Variable", "Default", "Meaning"],
    ...settingList().map(({ setting }) => [
      code(`--${setting.flag}`),
      code(setting.env),
      setting.shownDefault.startsWith("(")
        ? setting.shownDefault
        : code(setting.shownDefault),
      setting.help,
    ]),
  ];
}

/** The rows of docs/security.md's table of configurable limits. */
export function limitsTableRows(): string[][] {
  return [
    ["Limit", "Default", "Variable", "Flag", "When exceeded"],
    ...settingList().flatMap(({ setting }) =>
      setting.whenExceeded
        ? [[
          setting.help,
          code(setting.shownDefault),
          code(setting.env),
          code(`--${setting.flag}`),
          setting.whenExceeded,
        ]]
        : []
    ),
  ];
}

/** Renders rows as a markdown table (deno fmt aligns it afterwards). */
export function markdownTable(rows: string[][]): string {
  const [header = [], ...body] = rows;
  const line = (cells: string[]) =>
    `| ${cells.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`;
  return [
    line(header),
    line(header.map(() => "---")),
    ...body.map(line),
  ].join("\n");
}

/** Reads the rows of the first markdown table between the `name` markers. */
export function tableBetweenMarkers(text: string, name: string): string[][] {
  const start = `<!-- settings:${name} -->`;
  const end = `<!-- /settings:${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    throw new Error(`No ${start} … ${end} block`);
  }
  return text.slice(from + start.length, to)
    .split("\n")
    .filter((row) => row.trim().startsWith("|"))
    .filter((row) => !/^\|[\s|:-]+\|$/.test(row.trim()))
    .map((row) =>
      row.trim().slice(1, -1).split(/(?<!\\)\|/).map((cell) =>
        cell.trim().replaceAll("\\|", "|")
      )
    );
}

/** Replaces the table between the `name` markers with `rows`. */
export function replaceTable(
  text: string,
  name: string,
  rows: string[][],
): string {
  const start = `<!-- settings:${name} -->`;
  const end = `<!-- /settings:${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`No ${start} … ${end} block`);
  return `${text.slice(0, from + start.length)}\n\n${markdownTable(rows)}\n\n${
    text.slice(to)
  }`;
}

/** The documents whose tables come from the declarations. */
export const GENERATED_TABLES = [
  { file: "README.md", name: "table", rows: settingsTableRows },
  { file: "docs/security.md", name: "limits", rows: limitsTableRows },
] as const;

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  for (const { file, name, rows } of GENERATED_TABLES) {
    const url = new URL(file, root);
    const text = await Deno.readTextFile(url);
    await Deno.writeTextFile(url, replaceTable(text, name, rows()));
    console.log(`Rewrote the ${name} table in ${file}`);
  }
}
