/**
 * Addresses of the real services the tests run against (the machine's PostgreSQL, Redis and MariaDB).
 * Override with TEST_DATABASE_URL, TEST_REDIS_URL, TEST_MYSQL_URL.
 */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
