import { createConnector } from '../../sync/connector-store';
import { startGraphStack, type GraphStack } from '../../test/fixtures/graph-stack';

/**
 * A department posts a batch to the hub through the gateway's own port: POST /push/<connectorId>/<stream>
 * is stored durably in hub.push_batches (the gateway runs as its own database role), a wrong token is
 * refused and stores nothing, and a re-sent batch with the same Idempotency-Key is stored once.
 */
describe('push receiver on the gateway', () => {
  let stack: GraphStack;
  let connectorId: string;
  const token = 'push-token-0123456789abcdef';

  beforeAll(async () => {
    stack = await startGraphStack({ label: 'gwpush' });
    const connector = await createConnector(stack.db.pool, {
      department: 'PETITION',
      name: 'district-petitions-push',
      kind: 'push',
      config: { token, streams: [{ name: 'petitions', primaryKey: ['petitionNo'] }] },
      streams: [{ name: 'petitions', primaryKey: ['petitionNo'] }],
      mapping: {
        version: 1,
        streams: {
          petitions: {
            target: 'petition.petitions',
            fields: { petition_no: { from: 'petitionNo', required: true }, petitioner_name: 'name', subject: 'subject' },
          },
        },
      } as never,
      schedule: { everyMs: 5000 },
    });
    connectorId = connector.id;
  });
  afterAll(async () => { await stack?.stop(); });

  const base = () => stack.url.replace(/\/graphql$/, '');
  const post = (body: unknown, headers: Record<string, string>) => fetch(`${base()}/push/${connectorId}/petitions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });

  it('stores a batch once, refuses a wrong token, and keeps Chinese text intact', async () => {
    const records = [{ petitionNo: 'XF-1', name: '王秀英', subject: '小区噪音扰民' }, { petitionNo: 'XF-2', name: '李强', subject: '拖欠工资' }];
    const wrong = await post(records, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('TL_ERR_CONNECTOR_AUTH');

    const first = await post(records, { authorization: `Bearer ${token}`, 'idempotency-key': 'batch-1' });
    expect(first.status).toBe(202);
    const again = await post(records, { authorization: `Bearer ${token}`, 'idempotency-key': 'batch-1' });
    expect(again.status).toBe(200);

    const { rows } = await stack.db.pool.query('SELECT stream, record_count, records FROM hub.push_batches WHERE connector_id = $1', [connectorId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].record_count).toBe(2);
    expect(rows[0].records[0].subject).toBe('小区噪音扰民');

    const unknown = await fetch(`${base()}/push/00000000-0000-4000-8000-000000000000/petitions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '[]',
    });
    expect(unknown.status).toBe(404);
  });
});
