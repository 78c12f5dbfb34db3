import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import type { Logger } from '../platform/logger';
import { generate, type EventRates, type Manifest } from './generate';
import type { Geography } from './geography';
import { civilMarker, connectCivil, loadCivil } from './systems/civil-db';
import { publishJusticeFiles } from './systems/justice-drop';
import { connectPolice, loadPolice, policeMarker, type SeedMarker } from './systems/police-db';
import { localDate } from './time';

/**
 * Seeding the four demo systems for a seed and size, idempotently: generate the data once into
 * DEMO_DIR/generated/seed-S-persons-N (kept, so the truth stays next to what was loaded), then load the
 * police PostgreSQL database, the civil-affairs MariaDB database, the justice drop folder and the petition
 * store — each only if it does not already hold this seed and size. Live changes made since are kept.
 */
export interface DemoSystemsOptions {
  seed: number;
  persons: number;
  policeUrl: string;
  mysqlUrl: string;
  /** DEMO_DIR: holds generated/, justice/ (the drop folder), petition/ (the API's store). */
  dir: string;
  /** History end for a first generation; default today (CST). */
  asOf?: string;
  geography?: Geography;
  /** Event rates for a first generation (tests raise them to get more events from few persons). */
  events?: Partial<EventRates>;
  log?: Logger;
}

export interface DemoSystems {
  police: pg.Client;
  civil: mysql.Connection;
  justiceDir: string;
  petitionFile: string;
  generatedDir: string;
  manifest: Manifest;
  /** Which systems were (re)loaded by this call. */
  seeded: string[];
  close(): Promise<void>;
}

export function generatedDirFor(dir: string, seed: number, persons: number): string {
  return path.join(dir, 'generated', `seed-${seed}-persons-${persons}`);
}

export async function seedDemoSystems(options: DemoSystemsOptions): Promise<DemoSystems> {
  const { seed, persons, dir, log } = options;
  const generatedDir = generatedDirFor(dir, seed, persons);
  const manifestFile = path.join(generatedDir, 'manifest.json');
  let manifest: Manifest;
  if (existsSync(manifestFile)) {
    manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
  } else {
    const started = Date.now();
    manifest = await generate({ out: generatedDir, seed, persons, asOf: options.asOf ?? localDate(Date.now()), geography: options.geography, events: options.events });
    log?.info({ seed, persons, ms: Date.now() - started, dir: generatedDir }, 'demo data generated');
  }
  const marker: SeedMarker = { seed, persons, asOf: manifest.asOf };
  const same = (m: SeedMarker | null): boolean => !!m && m.seed === seed && m.persons === persons && m.asOf === manifest.asOf;
  const seeded: string[] = [];

  const police = await connectPolice(options.policeUrl);
  let civil: mysql.Connection | undefined;
  try {
    if (!same(await policeMarker(police))) {
      const counts = await loadPolice(police, generatedDir, marker);
      seeded.push('police');
      log?.info({ counts }, 'demo police database loaded');
    }
    civil = await connectCivil(options.mysqlUrl);
    if (!same(await civilMarker(civil))) {
      const counts = await loadCivil(civil, generatedDir, marker);
      seeded.push('civil');
      log?.info({ counts }, 'demo civil-affairs database loaded');
    }
    const justiceDir = path.join(dir, 'justice');
    const petitionDir = path.join(dir, 'petition');
    const petitionFile = path.join(petitionDir, 'petitions.jsonl');
    const stampFile = path.join(dir, 'seeded.json');
    const stamp = existsSync(stampFile) ? (JSON.parse(await readFile(stampFile, 'utf8')) as SeedMarker) : null;
    if (!same(stamp) || !existsSync(petitionFile) || !existsSync(justiceDir)) {
      // Another seed's files must not stay in the drop folder or the petition store.
      await rm(justiceDir, { recursive: true, force: true });
      await publishJusticeFiles(generatedDir, justiceDir);
      await mkdir(petitionDir, { recursive: true });
      await copyFile(path.join(generatedDir, 'petition', 'petitions.jsonl'), petitionFile);
      await writeFile(stampFile, JSON.stringify(marker));
      seeded.push('justice', 'petition');
      log?.info({ files: (await readdir(justiceDir)).length }, 'demo justice drop folder and petition store seeded');
    }
    const c = civil;
    return {
      police, civil: c, justiceDir, petitionFile, generatedDir, manifest, seeded,
      async close() {
        await police.end().catch(() => undefined);
        await c.end().catch(() => undefined);
      },
    };
  } catch (err) {
    await police.end().catch(() => undefined);
    await civil?.end().catch(() => undefined);
    throw err;
  }
}
