// A cluster per test worker: three `passway` instances on one fresh PostgreSQL database
// (made on the server of PASSWAY_TEST_POSTGRES_URL, dropped at the end), behind HAProxy
// on a free port in strict round-robin: every request is balanced on its own, so the
// steps of one sign-in land on different instances. Each answer names its instance in
// `X-Served-By`; a request carrying `X-Cluster-Instance: passway-N` goes to that
// instance (the tests use it to make sure that something happens on *another*
// instance). The instances have the configuration of `passway.ts`, one master key, and
// trust HAProxy (loopback) for the client's address (`X-Forwarded-For`).
//
// Instances stop when their standard input closes, and HAProxy runs under a wrapper that
// stops it when its standard input closes, so nothing outlives the tests.
import { test as base, expect } from '@playwright/test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Passway, freePort, passwayConfig, watchForProblems } from './passway';

const REPO = resolve(__dirname, '../..');
const BIN = process.env.PASSWAY_BIN ?? `${REPO}/target/debug/passway`;
const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy';
export const INSTANCES = ['passway-1', 'passway-2', 'passway-3'] as const;
export type Instance = (typeof INSTANCES)[number];
/** Sent with a request, it goes to that instance instead of the next in turn. */
export const PIN = 'x-cluster-instance';

/** Runs `psql` against `url` and returns its output; throws with psql's message. */
export function psql(url: string, sql: string): string {
  const run = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qtAc', sql], { encoding: 'utf8' });
  if (run.error) throw new Error(`psql could not run (install postgresql-client): ${run.error.message}`);
  if (run.status !== 0) throw new Error(`psql failed: ${run.stderr}`);
  return run.stdout.trim();
}

/** `url` with its database replaced by `name`. */
function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

class Server {
  log = '';
  constructor(readonly name: Instance, readonly url: string, readonly child: ChildProcess) {
    const keep = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-50_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
  }

  /** Resolves once it listens; rejects with its output if it ends first. */
  ready(): Promise<void> {
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${this.name} did not start:\n${this.log}`)), 30_000);
      const check = () => {
        if (this.log.includes('listening on')) {
          clearTimeout(timer);
          ok();
        }
      };
      this.child.stdout!.on('data', check);
      this.child.on('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`${this.name} exited (${code}) while starting:\n${this.log}`));
      });
      check();
    });
  }

  stopped(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((ok) => {
      this.child.on('exit', () => ok());
      this.child.stdin?.end();
      setTimeout(() => {
        this.child.kill('SIGKILL');
        ok();
      }, 8000).unref();
    });
  }
}

export class Cluster extends Passway {
  constructor(
    baseUrl: string,
    localUrl: string,
    haproxy: ChildProcess,
    dir: string,
    private readonly servers: Server[],
    /** The configuration file every instance reads (for `passway` commands). */
    readonly configPath: string,
    readonly masterKey: string,
    /** The cluster's database, and the URL its database was made through. */
    readonly storeUrl: string,
    private readonly adminUrl: string,
    private readonly database: string,
  ) {
    super(baseUrl, localUrl, haproxy, dir);
  }

  /** Each instance's own address (127.0.0.1), by name, bypassing the load balancer. */
  get instances(): { name: Instance; url: string }[] {
    return this.servers.map((s) => ({ name: s.name, url: s.url }));
  }

  /** The instance that answered `response`. */
  static servedBy(response: { headers(): Record<string, string> } | Response): Instance {
    const name = response instanceof Response ? response.headers.get('x-served-by') : response.headers()['x-served-by'];
    expect(INSTANCES, `X-Served-By "${name}" names an instance`).toContain(name);
    return name as Instance;
  }

  /** Another instance than `these`. */
  static other(...these: Instance[]): Instance {
    return INSTANCES.find((i) => !these.includes(i))!;
  }

  /** Runs a `passway` command on the cluster's configuration; returns its output. */
  passway(...args: string[]): string {
    const run = spawnSync(BIN, ['--config', this.configPath, ...args], {
      encoding: 'utf8',
      env: { ...process.env, PASSWAY_MASTER_KEY: this.masterKey },
    });
    if (run.status !== 0) throw new Error(`passway ${args.join(' ')} failed:\n${run.stdout}${run.stderr}`);
    return run.stdout;
  }

  /** SQL on the cluster's database. */
  sql(statement: string): string {
    return psql(this.storeUrl, statement);
  }

  /** What each instance printed lately (for a failed test's report). */
  logs(): string {
    return this.servers.map((s) => `===== ${s.name} (${s.url})\n${s.log}`).join('\n');
  }

  override stop(): void {
    throw new Error('a cluster stops with `await cluster.shutdown()`');
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stopped()));
    super.stop();
    psql(this.adminUrl, `DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
  }
}

/** The extra configuration of the cluster's instances (appended to `passway.ts`'s). */
const CLUSTER_CONFIG = `
[rate_limits]
# HAProxy, on loopback, names the client in X-Forwarded-For.
trusted_proxies = ["127.0.0.1/32"]
`;

/**
 * `sh -c` this with a command: runs it until our end of the shell's standard input
 * closes (a shell gives background jobs /dev/null, hence fd 3), then stops it.
 */
const UNTIL_STDIN_CLOSES = 'exec 3<&0; "$0" "$@" </dev/null 3<&- & pid=$!; (cat <&3 >/dev/null; kill "$pid" 2>/dev/null) & exec 3<&-; wait "$pid"';

function haproxyConfig(port: number, servers: { name: string; port: number }[]): string {
  return `
global
    maxconn 1024

defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout http-request 10s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h

frontend passway
    bind 127.0.0.1:${port}
    default_backend instances

backend instances
    # Each request on its own, in turn: no stickiness, no prefer-last-server.
    balance roundrobin
    http-response set-header X-Served-By %s
${servers.map((s) => `    use-server ${s.name} if { req.hdr(${PIN}) -m str ${s.name} }`).join('\n')}
${servers.map((s) => `    server ${s.name} 127.0.0.1:${s.port}`).join('\n')}
`;
}

export async function startCluster(): Promise<Cluster> {
  const adminUrl = process.env.PASSWAY_TEST_POSTGRES_URL!;
  const database = `passway_e2e_cluster_${randomBytes(6).toString('hex')}`;
  psql(adminUrl, `CREATE DATABASE ${database}`);
  const storeUrl = withDatabase(adminUrl, database);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'passway-e2e-cluster-'));
  const configPath = join(dir, 'passway.toml');
  writeFileSync(configPath, passwayConfig(port, dir, { storeUrl, extraApps: CLUSTER_CONFIG }));
  const masterKey = randomBytes(32).toString('base64url');

  // All three at once on the fresh database, as an orchestrator starts replicas.
  const servers = await Promise.all(INSTANCES.map(async (name) => {
    const own = await freePort();
    const child = spawn(BIN, ['--config', configPath, 'serve', '--listen', `127.0.0.1:${own}`, '--stop-on-stdin-eof'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PASSWAY_MASTER_KEY: masterKey },
    });
    return new Server(name, `http://127.0.0.1:${own}`, child);
  }));
  const stopAll = () => Promise.all(servers.map((s) => s.stopped()));
  try {
    await Promise.all(servers.map((s) => s.ready()));
  } catch (e) {
    await stopAll();
    psql(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    throw e;
  }

  const haproxyCfg = join(dir, 'haproxy.cfg');
  writeFileSync(haproxyCfg, haproxyConfig(port, servers.map((s) => ({ name: s.name, port: Number(new URL(s.url).port) }))));
  const haproxy = spawn('sh', ['-c', UNTIL_STDIN_CLOSES, HAPROXY, '-db', '-f', haproxyCfg], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let haproxyLog = '';
  haproxy.stdout!.on('data', (c: Buffer) => { haproxyLog += c.toString(); });
  haproxy.stderr!.on('data', (c: Buffer) => { haproxyLog += c.toString(); });
  const localUrl = `http://127.0.0.1:${port}`;
  const cluster = new Cluster(`http://localhost:${port}`, localUrl, haproxy, dir, servers, configPath, masterKey, storeUrl, adminUrl, database);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (haproxy.exitCode !== null) {
      await cluster.shutdown();
      throw new Error(`haproxy exited (${haproxy.exitCode}):\n${haproxyLog}`);
    }
    const answered = await fetch(`${localUrl}/healthz`).then((r) => r.ok, () => false);
    if (answered) break;
    if (Date.now() > deadline) {
      await cluster.shutdown();
      throw new Error(`haproxy did not answer on ${localUrl}:\n${haproxyLog}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return cluster;
}

export const test = base.extend<{ problems: string[]; instanceLogs: void }, { cluster: Cluster }>({
  cluster: [async ({}, use) => {
    const cluster = await startCluster();
    await use(cluster);
    await cluster.shutdown();
  }, { scope: 'worker', timeout: 60_000 }],
  // A failed test's report carries what the instances printed.
  instanceLogs: [async ({ cluster }, use, testInfo) => {
    await use();
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('instance logs', { body: cluster.logs(), contentType: 'text/plain' });
    }
  }, { auto: true }],
  problems: async ({ page }, use) => {
    const problems = watchForProblems(page);
    await use(problems);
    expect(problems, 'no CSP violations or page errors').toEqual([]);
  },
});

export { expect };
