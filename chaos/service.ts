/**
 * The service as it runs in production: `node dist/src/main.js` child processes, one api and one
 * or more workers, so a worker can be killed while the api keeps answering.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';
import { onCleanup } from './cleanup';
import { until } from './wait';

export type Role = 'api' | 'worker';

export class ServiceProcess {
  private proc?: ChildProcess;
  private log?: WriteStream;
  private forget?: () => void;
  private exit?: Promise<void>;
  private startedWorker = false;

  constructor(
    readonly name: string,
    readonly role: Role,
    private readonly env: Record<string, string>,
    private readonly logPath: string,
    private readonly port?: number,
  ) {}

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    this.log = createWriteStream(this.logPath, { flags: 'a' });
    const proc = spawn(process.execPath, ['dist/src/main.js'], {
      // Several workers run on this one host: none serves /metrics (each would need its own
      // METRICS_PORT, and a taken port stops a worker at start).
      env: { ...process.env, METRICS_PORT: '0', ...this.env, APP_ROLE: this.role },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.forget = onCleanup(`${this.name} pid ${proc.pid}`, () => proc.kill('SIGKILL'));
    this.exit = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.stdout?.on('data', (chunk: Buffer) => {
      if (!this.startedWorker && chunk.toString().includes('sms-service started: role worker'))
        this.startedWorker = true;
      this.log?.write(chunk);
    });
    proc.stderr?.on('data', (chunk: Buffer) => this.log?.write(chunk));
    const ready = await until(
      async () => {
        if (!this.running) throw new Error('exited');
        if (this.role === 'worker') return this.startedWorker;
        const res = await fetch(`http://127.0.0.1:${this.port}/health/ready`, {
          signal: AbortSignal.timeout(2000),
        });
        await res.arrayBuffer();
        return res.ok;
      },
      timeoutMs,
      100,
    );
    if (!ready) {
      proc.kill('SIGKILL');
      throw new Error(`${this.name} did not become ready; see ${this.logPath}`);
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.proc?.kill(signal);
  }

  /** Waits for the process to exit; the time it took, or undefined when it did not in time. */
  async waitExit(timeoutMs: number): Promise<number | undefined> {
    const started = performance.now();
    if (!this.exit) return 0;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const result = await Promise.race([this.exit.then(() => 'exited' as const), timedOut]);
    clearTimeout(timer);
    return result === 'exited' ? performance.now() - started : undefined;
  }

  async kill(): Promise<void> {
    if (this.running) {
      this.proc?.kill('SIGKILL');
      await this.waitExit(10_000);
    }
    this.forget?.();
    await new Promise<void>((r) => (this.log ? this.log.end(() => r()) : r()));
  }
}
