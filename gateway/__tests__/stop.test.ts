import { connect, type Socket } from 'node:net';
import { startGraphStack, type GraphStack } from '../../test/fixtures/graph-stack';

/**
 * Stopping the gateway (SIGTERM, Ctrl-C of `npm start`): in-flight requests may finish, but a client that sent half
 * a request and stalls does not hold the stop until the server's header timeout (the part is killed after 9 s).
 */
describe('gateway: stop', () => {
  let stack: GraphStack;
  beforeAll(async () => { stack = await startGraphStack({ label: 'gwstop' }); });
  afterAll(async () => { await stack?.stop(); });

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
