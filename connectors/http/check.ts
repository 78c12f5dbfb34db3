import type { CheckResult } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { checkFailure } from '../errors';
import { pages } from './pages';
import { httpSpec, type HttpConfig } from './spec';

/** Fetch the first page of every stream: reachable, credentials accepted, records where configured. */
export async function checkHttp(raw: Record<string, unknown>): Promise<CheckResult> {
  try {
    const config = validateAgainstSpec<HttpConfig>(httpSpec, raw);
    const counts: string[] = [];
    for (const stream of config.streams) {
      for await (const page of pages(config, stream, null, {}, { requests: 0, retries: 0 }, 1)) counts.push(`${stream.name}: ${page.records.length} records on the first page`);
    }
    return { ok: true, message: `${config.baseUrl} answered; ${counts.join('; ')}` };
  } catch (err) {
    return checkFailure(err);
  }
}

