import { connect, type Socket } from 'node:net';
import { startGraphStack, type GraphStack } from '../../test/fixtures/graph-stack';

/**
 * Stopping the gateway (SIGTERM, Ctrl-C of `npm start`): in-flight requests may finish, but a client that sent half
 * a request and stalls does not hold the stop until the server's header timeout (the part is killed after 9 s).
 */
describe('gateway: stop', () => {
  let stack: GraphStack;
  const signals = ['SIGINT', 'SIGTERM'] as const;
  let listenersAdded: Record<string, number> = {};
  beforeAll(async () => {
    // Outside tests (NODE_ENV not 'test') Apollo Server would stop itself on these signals unless told not to.
    const nodeEnv = process.env.NODE_ENV;
    const before = signals.map((s) => process.listenerCount(s));
    process.env.NODE_ENV = 'production';
    try {
      stack = await startGraphStack({ label: 'gwstop' });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    listenersAdded = Object.fromEntries(signals.map((s, i) => [s, process.listenerCount(s) - before[i]!]));
  });
  afterAll(async () => { await stack?.stop(); });

  it('leaves SIGINT and SIGTERM to the part that runs it (no second stop of Apollo Server racing the gateway\'s own)', () => {
    expect(listenersAdded).toEqual({ SIGINT: 0, SIGTERM: 0 });
  });

  it('closes a stalled half-sent request after the drain time and finishes stopping', async () => {
    const { port } = new URL(stack.url);
    const socket: Socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    // Headers never finished: neither an idle connection nor a request that can complete.
    socket.write('POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    // A request that completes normally still gets its answer while the gateway drains.
    const token = await stack.token({ role: 'city-admin' });
    const answered = stack.query('{ grid(code: "5101") { name } }', {}, token);
    await new Promise((r) => setTimeout(r, 50));
    const stopped = stack.gateway.stop();
    expect((await answered).data).toEqual({ grid: { name: '成都市' } });
    await stopped;
    await closed;
    expect(socket.destroyed).toBe(true);
  }, 20_000);
});
