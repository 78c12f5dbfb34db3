import pg from 'pg';

/**
 * A pg.Client that queues the statements sent to it while one runs, and hands the next to node-postgres when the
 * connection is ready for it.
 *
 * Linking and sync send a batch's statements to one connection without waiting for each (person-linking.ts's
 * writeQueued, copy-text.ts's copyRows, linkBatch's places beside the persons): the COPY text is encoded and the
 * next statements made while the database works on the one before. node-postgres 8 queued such statements itself,
 * and 8.23 deprecates that (a DeprecationWarning in every process that does it; pg 9 refuses the statement). This
 * is the same queue, kept here: node-postgres is given one statement at a time, and the next when the client emits
 * 'drain' (the connection is ready for a query and node-postgres has none waiting), in the same turn as it would
 * have sent it itself, before the promise of the statement before settles. Every kind of query goes through it:
 * text and config queries (promise or callback) and submittables such as pg-copy-streams' COPY, which are returned
 * at once, so that their text can be written while they wait.
 *
 * When the connection ends, the statements still waiting are handed to node-postgres, which fails each with its
 * own error ("Client was closed and is not queryable" or the connection's).
 *
 * Named statements (named-statement.ts) are prepared once per connection. One prepared before a table it reads
 * gained or lost a column fails with 'cached plan must not change result type' from then on (its result's shape was
 * fixed when it was prepared): the client prepares it again under a new name and runs it once more.
 */
export class StatementQueueClient extends pg.Client {
  /** Statements waiting for the one in node-postgres's hands, in the order they were sent. */
  private readonly waiting: Array<() => void> = [];
  /** A statement of this client's is in node-postgres's hands (sent, or waiting there for the connection). */
  private inFlight = false;
  /** Named statements prepared again after their plan went stale: the name each now has on this connection. */
  private readonly renamed = new Map<string, string>();
  private preparedAgain = 0;

  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('drain', () => this.next());
    this.on('end', () => { while (this.waiting.length) this.waiting.shift()!(); this.inFlight = false; });
  }

  // One signature for node-postgres's overloads: what each returns is what node-postgres returns for it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const [config, values, callback] = args as [unknown, unknown, unknown];
    if (isNamed(config) && !hasCallback(config)) {
      // pg.Pool's query() calls the client's with a callback: both forms get the stale-plan retry.
      const done = [values, callback].find((a): a is (err: Error | null, res?: pg.QueryResult) => void => typeof a === 'function');
      const result = this.namedQuery(Array.isArray(values) ? { ...config, values } : config);
      if (!done) return result;
      result.then((res) => done(null, res), (err: Error) => done(err));
      return undefined;
    }
    return this.enqueue(args);
  }

  /** A named statement (promise form), prepared again under a new name once if its cached plan went stale. */
  private async namedQuery(config: pg.QueryConfig & { name: string }): Promise<pg.QueryResult> {
    const name = this.renamed.get(config.name) ?? config.name;
    try {
      return await (this.enqueue([{ ...config, name }]) as Promise<pg.QueryResult>);
    } catch (err) {
      if (!isStalePlan(err)) throw err;
      const fresh = `${config.name}_${++this.preparedAgain}`;
      this.renamed.set(config.name, fresh);
      return (this.enqueue([{ ...config, name: fresh }]) as Promise<pg.QueryResult>);
    }
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private enqueue(args: any[]): any {
    if (!this.inFlight) {
      this.inFlight = true;
      return super.query(...(args as Parameters<pg.Client['query']>));
    }
    const send = () => super.query(...(args as Parameters<pg.Client['query']>)) as unknown;
    const [config, values, callback] = args as [unknown, unknown, unknown];
    if (isSubmittable(config)) {
      this.waiting.push(send);
      return config;
    }
    if (typeof values === 'function' || typeof callback === 'function' || hasCallback(config)) {
      this.waiting.push(send);
      return undefined;
    }
    return new Promise((resolve, reject) => {
      this.waiting.push(() => { (send() as Promise<unknown>).then(resolve, reject); });
    });
  }

  /** The statement in node-postgres's hands is done: the next waiting one, if any, goes. */
  private next(): void {
    const send = this.waiting.shift();
    if (send) send();
    else this.inFlight = false;
  }
}

function isSubmittable(config: unknown): config is { submit: unknown } {
  return typeof config === 'object' && config !== null && typeof (config as { submit?: unknown }).submit === 'function';
}

function isNamed(config: unknown): config is pg.QueryConfig & { name: string } {
  return typeof config === 'object' && config !== null && typeof (config as { name?: unknown }).name === 'string' && !isSubmittable(config);
}

/** PostgreSQL's error for a prepared statement whose result columns changed under it (SQLSTATE 0A000). */
function isStalePlan(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '');
}

function hasCallback(config: unknown): boolean {
  return typeof config === 'object' && config !== null && typeof (config as { callback?: unknown }).callback === 'function';
}
