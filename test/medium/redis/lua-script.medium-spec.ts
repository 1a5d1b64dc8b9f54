import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { LuaScript } from '../../../src/redis/lua-script';

/** LuaScript against the real Redis: EVALSHA, and EVAL when the server does not have the script. */
describe('LuaScript', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  afterAll(() => redis.quit());

  // A text of its own (a fresh comment), so no other run or suite has loaded it yet.
  const fresh = (body: string) => new LuaScript(`-- ${randomUUID()}\n${body}`);
  const loaded = async (s: LuaScript) => ((await redis.script('EXISTS', s.sha)) as number[])[0] === 1;

  it('loads a script the server does not have (NOSCRIPT → EVAL), then runs it by its SHA', async () => {
    const script = fresh(`return redis.call('INCRBY', KEYS[1], ARGV[1])`);
    const key = `lua-script-test:${randomUUID()}`;
    expect(await loaded(script)).toBe(false);
    expect(await script.run(redis, [key], [2])).toBe(2);
    expect(await loaded(script)).toBe(true);
    expect(await script.run(redis, [key], [3])).toBe(5);
    await redis.del(key);
  });

  it("passes the script's own errors through", async () => {
    const script = fresh(`return redis.error_reply('over the limit')`);
    await expect(script.run(redis, [], [])).rejects.toThrow('over the limit');
    await expect(script.run(redis, [], [])).rejects.toThrow('over the limit');
  });
});
