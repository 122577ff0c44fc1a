/**
 * A real nginx for tests: a reverse proxy on a free loopback port in front
 * of server processes, run as a child of the test (no daemon, no master
 * process) with its configuration, logs and temporary files in a folder of
 * its own. nginx comes from the system (`apt-get install nginx`); its
 * system service is never used.
 *
 * @module
 */

import { freePort, ignoreWithout } from "./process.ts";
import { delay } from "./server.ts";

/** Where Debian installs it. */
export const NGINX = "/usr/sbin/nginx";

/**
 * nginx tests run wherever nginx is installed, and always in CI (which
 * installs it, so that a missing one fails there); elsewhere they are
 * reported as ignored, not passed.
 */
export const ignoreWithoutNginx = ignoreWithout(NGINX);

/** Options for {@linkcode startNginx}. */
export interface NginxOptions {
  /** The servers behind it, as `host:port`; round robin, not sticky. */
  readonly backends: readonly string[];
  /** Port to listen on, on 127.0.0.1. @default a free one */
  readonly port?: number;
  /** How long to wait for it to answer. @default 10000 */
  readonly readyTimeoutMs?: number;
}

/** A running nginx; dispose it to stop it and remove its files. */
export interface NginxProcess extends AsyncDisposable {
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the origin pages are served from. */
  readonly origin: string;
  wsUrl(path: string): string;
  /** Its error log and what it printed, for failure messages. */
  output(): Promise<string>;
}

/**
 * Seconds nginx waits for a request's headers; short here so that a test
 * sees it act (docs/scaling.md suggests 10).
 */
export const HEADER_TIMEOUT_S = 2;

/**
 * The proxy configuration for WebSockets: what a deployment in front of
 * several server processes needs, with every path in `dir`.
 */
export function nginxConfig(
  dir: string,
  port: number,
  backends: readonly string[],
): string {
  return `
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;

events {
  worker_connections 1024;
}

http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  # What Deno.serve cannot do yet (docs/security.md): drop a request whose
  # headers do not come (slowloris), drop idle keep-alive connections, and
  # count each address's connections before any request.
  client_header_timeout ${HEADER_TIMEOUT_S}s;
  keepalive_timeout 30s;
  limit_conn_zone $binary_remote_addr zone=per_address:10m;

  # Connection: upgrade for a WebSocket handshake, close otherwise.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
  }

  upstream chat {
${backends.map((backend) => `    server ${backend};`).join("\n")}
  }

  server {
    listen 127.0.0.1:${port};
    limit_conn per_address 200;

    location / {
      proxy_pass http://chat;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      # Host as the client sent it, port included: the server checks it
      # against CHAT_ALLOWED_HOSTS and a socket's Origin against it.
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # Longer than any quiet spell of a chat socket; the server's own
      # heartbeat finds the dead ones.
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
`;
}

/**
 * Starts nginx in front of `backends` and waits until it answers HTTP
 * through to them.
 */
export async function startNginx(options: NginxOptions): Promise<NginxProcess> {
  const dir = await Deno.makeTempDir({ prefix: "chat-nginx-" });
  const port = options.port ?? freePort();
  const origin = `http://127.0.0.1:${port}`;
  const configPath = `${dir}/nginx.conf`;
  await Deno.writeTextFile(
    configPath,
    nginxConfig(dir, port, options.backends),
  );
  const child = new Deno.Command(NGINX, {
    // -e: even before it reads the configuration, nginx logs here and
    // not in /var/log/nginx.
    args: ["-p", dir, "-c", configPath, "-e", `${dir}/error.log`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const printed: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      printed.push(chunk);
    }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((done) => (exited = done));

  const output = async () => {
    let log = "";
    try {
      log = await Deno.readTextFile(`${dir}/error.log`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return `${printed.join("")}${log}`;
  };
  const stop = async () => {
    // SIGTERM is nginx's fast shutdown: it does not wait for open sockets.
    if (!exited) child.kill("SIGTERM");
    await status;
    await drained;
  };
  const dispose = async () => {
    await stop();
    await Deno.remove(dir, { recursive: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  while (true) {
    if (exited) {
      await drained;
      const said = await output();
      await Deno.remove(dir, { recursive: true });
      throw new Error(`nginx exited with ${exited.code}:\n${said}`);
    }
    try {
      // Through nginx to a server: the whole path answers.
      const response = await fetch(`${origin}/healthz`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
    if (Date.now() > deadline) {
      const said = await output();
      await dispose();
      throw new Error(`nginx did not answer in time:\n${said}`);
    }
    await delay(50);
  }

  return {
    port,
    origin,
    wsUrl: (path) => `ws://127.0.0.1:${port}${path}`,
    output,
    [Symbol.asyncDispose]: dispose,
  };
}
