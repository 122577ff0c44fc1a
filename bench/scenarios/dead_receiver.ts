/**
 * The `dead-hook` scenario: the paced load against the chat server with
 * webhooks on and a receiver that never answers, against the same server
 * without webhooks, in alternating rounds; and, as the yardstick of the
 * run-to-run noise, against a second server without webhooks. A receiver
 * that is down must not slow the chat: the first ratio should sit within
 * the second's distance from 1.
 *
 * @module
 */

import { runLoad } from "../load.ts";
import type { LoadShape } from "../plan.ts";
import { ratio } from "../report.ts";
import { type LoadNumbers, medianRatio, medians } from "../round_stats.ts";
import {
  type BenchServer,
  cpuSecondsBetween,
  readCpu,
  settled,
  startChatServer,
} from "../servers.ts";
import { type BenchContext, progress } from "./context.ts";
import type { Rounds } from "./load_pair.ts";
import { startWebhookReceiver } from "../../testkit/webhook_receiver.ts";
import { SECRET } from "../../testkit/webhooks.ts";

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
  const readings = new Map<string, Awaited<ReturnType<typeof readCpu>>>();
  const result = await runLoad({
    ...load,
    origin: server.wsOrigin,
    roomPrefix: context.roomPrefix("hook"),
    onPhase: async (phase) => {
      readings.set(phase, await readCpu(server.pid));
    },
  });
  context.report.checkLoad("dead-hook", server.label, result);
  const sending = readings.get("sending");
  const done = readings.get("done");
  const cpuMicros = sending && done
    ? cpuSecondsBetween(sending, done) * 1e6 / Math.max(1, result.delivered)
    : NaN;
  progress(
    `${server.label}: p50 ${result.p50Ms.toFixed(2)} ms, p99 ${
      result.p99Ms.toFixed(2)
    } ms`,
  );
  return {
    deliveriesPerSecond: result.deliveriesPerSecond,
    cpuMicros,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
  };
}

/** Runs the scenario and adds its rows to the report. */
export async function deadReceiver(
  context: BenchContext,
  { scenario, load, rounds }: DeadReceiverOptions,
): Promise<void> {
  console.error(scenario);
  await using receiver = await startWebhookReceiver({
    secret: SECRET,
    answer: () => "hang",
  });
  const root = context.chatRoot ? { root: context.chatRoot } : {};
  await using plain = await startChatServer("no webhooks", root);
  await using hooked = await startChatServer("webhooks, receiver dead", {
    ...root,
    env: { CHAT_WEBHOOK_URL: receiver.url, CHAT_WEBHOOK_SECRET: SECRET },
  });
  await using again = await startChatServer("no webhooks, again", root);
  const servers = [plain, hooked, again];
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
  const dead = medianRatio(of(hooked), of(plain));
  const noise = medianRatio(of(again), of(plain));
  context.report.addRow({
    scenario,
    baseline: ms(medians(of(plain))),
    chat: ms(medians(of(hooked))),
    ratio: `p99 ${ratio(dead.p99Ms)}`,
  });
  context.report.addRow({
    scenario:
      "dead-hook noise: the same rounds, a second server without webhooks (chat column) against the first",
    baseline: ms(medians(of(plain))),
    chat: ms(medians(of(again))),
    ratio: `p99 ${ratio(noise.p99Ms)}`,
  });
  progress(
    `a dead receiver: p99 ${ratio(dead.p99Ms)}; two servers without: p99 ${
      ratio(noise.p99Ms)
    }; ${receiver.attempts.length} attempts hung at the receiver`,
  );
}
