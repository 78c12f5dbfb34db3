import type { CheckResult } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { checkFailure, configError } from '../errors';
import { listFiles } from './files';
import { globToRegExp } from './glob';
import { fileSpec, type FileConfig } from './spec';

/** The folder exists and is readable, and every stream's pattern compiles; says how many files match. */
export async function checkFiles(raw: Record<string, unknown>): Promise<CheckResult> {
  try {
    const config = validateAgainstSpec<FileConfig>(fileSpec, raw);
    const counts: string[] = [];
    for (const [i, s] of config.streams.entries()) {
      try {
        globToRegExp(s.pattern);
      } catch (err) {
        throw configError(`streams.${i}.pattern: ${(err as Error).message}`, { field: `streams.${i}.pattern` });
      }
      counts.push(`${s.name}: ${(await listFiles(config.path, s.pattern)).length} files`);
    }
    return { ok: true, message: `folder ${config.path} readable; ${counts.join('; ')}` };
  } catch (err) {
    return checkFailure(err);
  }
}
