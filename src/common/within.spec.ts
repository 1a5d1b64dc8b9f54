import { connect, Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { within } from './within';

/** Blocks this event loop (a busy process, or a host whose CPU others hold). */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

const late = () => new Error('late');

describe('within', () => {
  // An echo server on its own thread: it answers while this thread's loop is blocked, as Redis does.
  let worker: Worker;
  let socket: Socket;
  beforeAll(async () => {
    worker = new Worker(
      `const net = require('node:net');
       const { parentPort } = require('node:worker_threads');
       // It answers 20 ms later: while the test's thread is busy.
       const server = net.createServer((s) => s.on('data', (d) => setTimeout(() => s.write(d), 20)));
       server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
      { eval: true },
    );
    const port = await new Promise<number>((resolve) => worker.once('message', resolve));
    socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
  });
  afterAll(async () => {
    socket.destroy();
    await worker.terminate();
  });

  it('keeps an answer that arrived while this process was too busy to read it', async () => {
    // The busy stretch starts in each phase of the event loop's turn (a timer, a socket's read,
    // an immediate): after some, Node runs expired timers before it reads the sockets, and a plain
    // timer gives up on the answer waiting there.
    const phases: Record<string, (run: () => void) => void> = {
      timer: (run) => setTimeout(run, 0),
      io: (run) => socket.once('data', run),
      immediate: (run) => setImmediate(run),
    };
    const answers: Record<string, string> = {};
    for (const [phase, at] of Object.entries(phases)) {
      const started = new Promise<Promise<string>>((resolve) =>
        at(() => {
          const answer = new Promise<Buffer>((r) => socket.once('data', r));
          socket.write('ping');
          const bounded = within(answer, 100, late);
          busy(300); // the answer is back at 20 ms
          resolve(bounded.then(String, (e: Error) => e.message));
        }),
      );
      if (phase === 'io') socket.write('go'); // its echo starts the round
      answers[phase] = await await started;
    }
    expect(answers).toEqual({ timer: 'ping', io: 'ping', immediate: 'ping' });
  });

  it('gives up after `ms` on a side that does not answer while this process is free', async () => {
    const started = Date.now();
    await expect(within(new Promise(() => undefined), 300, late)).rejects.toThrow('late');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(295);
    // About 300; a loaded machine that delays the timer past 75 ms earns the second wait (~600).
    expect(took).toBeLessThan(900);
  });

  it('waits once more after a busy stretch, not for ever', async () => {
    const started = Date.now();
    const bounded = within(new Promise(() => undefined), 100, late);
    busy(300);
    await expect(bounded).rejects.toThrow('late');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(390); // 300 busy + 100 more
    expect(took).toBeLessThan(900); // once more only, not for ever
  });
});
