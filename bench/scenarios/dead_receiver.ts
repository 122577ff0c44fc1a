/**
 * The `dead-hook` scenario: the paced load, in alternating rounds, against
 * four chat servers: webhooks off; webhooks to a receiver that answers at
 * once; webhooks to a receiver that never answers (dead); and a second
 * server with a live receiver, the yardstick of the run-to-run noise. A
 * receiver that is down must not slow the chat: dead against live should
 * sit within the noise's distance from 1. Live against off is what writing
 * the events costs at all.
 *
 * @module
 */

import { runLoad } from "../load.ts";
import type { LoadShape } from "../plan.ts";
import { ratio } from "../report.ts";
import { type LoadNumbers, medianRatio, medians } from "../round_stats.ts";
import { type BenchServer, settled, startChatServer } from "../servers.ts";
import { type BenchContext, progress } from "./context.ts";
import { loadWithCpu, type Rounds, shown } from "./load_pair.ts";
import { SECRET } from "../../testkit/webhooks.ts";
import { freePort } from "../../testkit/process.ts";

/**
 * A receiver in a process of its own (not this one, which measures the
 * latency): `live` answers 204 at once, a dead one never answers.
 */
async function startReceiverProcess(live: boolean) {
  const port = freePort();
  const code = `Deno.serve({ port: ${port}, hostname: "127.0.0.1", onListen() {
    console.log("listening"); } }, async (request) => {
    await request.arrayBuffer();
    ${live ? "" : "await new Promise(() => {});"}
    return new Response(null, { status: 204 });
  });`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  if (!new TextDecoder().decode(value).includes("listening")) {
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel();
    throw new Error("The webhook receiver process did not start");
  }
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel();
    },
  };
}

/** The scenario's load. */
export interface DeadReceiverOptions {
  readonly scenario: string;
  readonly load: LoadShape;
  readonly rounds: Rounds;
}

async function round(
  context: BenchContext,
  server: BenchServer,
  load: LoadShape,
): Promise<LoadNumbers> {
  const measured = await loadWithCpu(context, server, load, "hook");
  const { result } = measured;
  context.report.checkLoad("dead-hook", server.label, result);
  progress(
    `${server.label}: p50 ${result.p50Ms.toFixed(2)} ms, p99 ${
      result.p99Ms.toFixed(2)
    } ms`,
  );
  return shown(measured);
}

/** Runs the scenario and adds its rows to the report. */
export async function deadReceiver(
  context: BenchContext,
  { scenario, load, rounds }: DeadReceiverOptions,
): Promise<void> {
  console.error(scenario);
  await using dead = await startReceiverProcess(false);
  await using live = await startReceiverProcess(true);
  const root = context.chatRoot ? { root: context.chatRoot } : {};
  const sendingTo = (url: string) => ({
    ...root,
    env: { CHAT_WEBHOOK_URL: url, CHAT_WEBHOOK_SECRET: SECRET },
  });
  await using plain = await startChatServer("no webhooks", root);
  await using hooked = await startChatServer(
    "webhooks, receiver live",
    sendingTo(live.url),
  );
  await using downed = await startChatServer(
    "webhooks, receiver dead",
    sendingTo(dead.url),
  );
  await using again = await startChatServer(
    "webhooks, receiver live, again",
    sendingTo(live.url),
  );
  const servers = [plain, hooked, downed, again];
  for (const server of servers) {
    await runLoad({
      ...load,
      origin: server.wsOrigin,
      roomPrefix: context.roomPrefix("warm"),
    });
  }
  const results = new Map<BenchServer, LoadNumbers[]>(
    servers.map((server) => [server, []]),
  );
  for (let index = 0; index < rounds.count; index++) {
    for (const server of servers) {
      await Promise.all(servers.map(({ pid }) => settled(pid, rounds.quietMs)));
      results.get(server)?.push(await round(context, server, load));
    }
  }
  const of = (server: BenchServer) => results.get(server) ?? [];
  const ms = (numbers: LoadNumbers) =>
    `${numbers.p50Ms.toFixed(2)} / ${numbers.p99Ms.toFixed(2)} ms`;
  const row = (label: string, base: BenchServer, ours: BenchServer) =>
    context.report.addRow({
      scenario: label,
      baseline: ms(medians(of(base))),
      chat: ms(medians(of(ours))),
      ratio: `p99 ${ratio(medianRatio(of(ours), of(base)).p99Ms)}`,
    });
  row(scenario, hooked, downed);
  row(
    "dead-hook noise: a second server with a live receiver (this server) against the first (featureless column)",
    hooked,
    again,
  );
  row(
    "dead-hook cost: webhooks on, receiver live (this server) against webhooks off (featureless column)",
    plain,
    hooked,
  );
}
