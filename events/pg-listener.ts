import pg from 'pg';
import type { Logger } from '../platform/logger';

/**
 * A dedicated connection that LISTENs on PostgreSQL channels and calls `onNotify` for each notification.
 * It reconnects after losing the connection and then calls `onNotify` once with `reconnected = true`,
 * because notifications sent while it was away are lost (the callers then catch up from the tables).
 */
export class PgListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly channels: string[],
    private readonly onNotify: (channel: string, payload: string | undefined, reconnected: boolean) => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect(false);
  }

  private async connect(reconnecting: boolean): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'tonglan-events-listen' });
    client.on('notification', (msg) => this.onNotify(msg.channel, msg.payload, false));
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'LISTEN connection failed; reconnecting');
      this.scheduleReconnect();
    });
    client.on('end', () => this.scheduleReconnect());
    try {
      await client.connect();
      for (const channel of this.channels) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      if (!reconnecting) throw err;
      this.log.warn({ err: (err as Error).message }, 'LISTEN reconnect failed; retrying');
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    if (reconnecting) this.onNotify(this.channels[0]!, undefined, true);
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.client = undefined;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect(true);
    }, 1000);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}
