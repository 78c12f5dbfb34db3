import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { authError, configError, transientError } from '../errors';
import { matcher } from './glob';

export interface DroppedFile {
  /** Path relative to the drop folder, `/`-separated. */
  name: string;
  fullPath: string;
  size: number;
  mtimeMs: number;
}

/** A filesystem error on the drop folder as a typed connector error. */
export function classifyFsError(err: unknown, path: string) {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return configError(`drop folder "${path}" does not exist or is not a folder`, { field: 'path' }, err);
  if (code === 'EACCES' || code === 'EPERM') return authError(`the hub may not read "${path}" (permission denied)`, { field: 'path' }, err);
  return transientError(`reading "${path}" failed: ${(err as Error).message}`, { code }, err);
}

/** Files under `root` matching `pattern`, oldest first (then by name); hidden and Office lock files skipped. */
export async function listFiles(root: string, pattern: string, minAgeSeconds = 0): Promise<DroppedFile[]> {
  const matches = matcher(pattern);
  const out: DroppedFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name.startsWith('~$')) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) {
        const name = relative(root, full).split(sep).join('/');
        if (!matches(name)) continue;
        const s = await stat(full);
        if (minAgeSeconds > 0 && Date.now() - s.mtimeMs < minAgeSeconds * 1000) continue;
        out.push({ name, fullPath: full, size: s.size, mtimeMs: s.mtimeMs });
      }
    }
  };
  try {
    const s = await stat(root);
    if (!s.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await walk(root);
  } catch (err) {
    throw classifyFsError(err, root);
  }
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
