import { pingPostgres } from '../../platform/db';
import { pingRedis } from '../../platform/redis';
import { TEST_PG_URL, TEST_REDIS_URL } from './services';

// Fail fast, with the reason, when a service the suite needs is not running (rather than 100 timeouts).
export default async function globalSetup(): Promise<void> {
  const [pgUp, redisUp] = await Promise.all([pingPostgres(TEST_PG_URL, 3000), pingRedis(TEST_REDIS_URL, 3000)]);
  const down = [!pgUp && `PostgreSQL at ${TEST_PG_URL}`, !redisUp && `Redis at ${TEST_REDIS_URL}`].filter(Boolean);
  if (down.length) {
    throw new Error(`Tests need real services: ${down.join(', ')} not answering. Start them (see README, "Running the tests").`);
  }
}
