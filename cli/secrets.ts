#!/usr/bin/env tsx
import { loadConfig } from '../platform/config';
import { createPool, pingPostgres } from '../platform/db';
import { isHubError } from '../platform/errors';
import { createSecretBox } from '../platform/secrets';
import { reencryptStoredSecrets } from '../platform/secrets-rotation';

/**
 * `npm run secrets -- rotate`: re-seal every stored connector and webhook secret under the current SECRET_KEY
 * (old envelopes are opened with SECRET_KEYS_OLD). Prints one JSON report per table; exits 1 if any row could
 * not be re-sealed (those rows are left untouched and named).
 */
const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/tonglan';

async function main(argv: string[]): Promise<number> {
  if (argv[0] !== 'rotate' || argv.length > 1) {
    console.error('usage: npm run secrets -- rotate   (set the new SECRET_KEY and the previous ones in SECRET_KEYS_OLD first)');
    return 2;
  }
  const config = loadConfig();
  const url = config.DATABASE_URL || LOCAL_PG;
  if (!(await pingPostgres(url, 2000))) {
    console.error(`secrets: PostgreSQL at ${new URL(url).host}${new URL(url).pathname} is not answering (set DATABASE_URL)`);
    return 1;
  }
  const box = createSecretBox(config);
  const pool = createPool(url, { max: 1, applicationName: 'tonglan-secrets' });
  try {
    const reports = await reencryptStoredSecrets(pool, box);
    for (const r of reports) console.log(JSON.stringify({ ...r, key: box.currentKid }));
    return reports.some((r) => r.failed.length) ? 1 : 0;
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  console.error(`secrets: ${isHubError(err) ? `${err.code}: ${err.message}` : (err as Error).message}`);
  process.exit(2);
});
