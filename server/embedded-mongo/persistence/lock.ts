import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'LOCK';

function errorCode(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && 'code' in err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `Data directory ${dataDir} is in use by process ${pid} (lock file ${join(dataDir, LOCK_FILE)}). ` +
        'Stop that process, or point this one at another directory.',
    );
    this.name = 'DataDirLockedError';
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return errorCode(err) === 'EPERM';
  }
}

/**
 * Takes DATA_DIR/LOCK for this process. The lock file is created complete and atomically (written
 * under a private name, then hard-linked into place, which fails if LOCK exists), so a reader
 * never sees a half-written pid. A lock whose process no longer exists is stale and is replaced.
 * Resolves with the function that releases it.
 */
export async function acquireLock(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = join(dataDir, LOCK_FILE);
  const tmpPath = join(dataDir, `${LOCK_FILE}.${process.pid}.${Date.now()}.tmp`);
  const content = `${process.pid}\n`;
  await writeFile(tmpPath, content, { flush: true });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmpPath, lockPath);
        break;
      } catch (err) {
        const code = errorCode(err);
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') {
          // A file system without hard links: an exclusive create instead.
          try {
            await writeFile(lockPath, content, { flag: 'wx', flush: true });
            break;
          } catch (createErr) {
            if (errorCode(createErr) !== 'EEXIST') throw createErr;
          }
        } else if (code !== 'EEXIST') {
          throw err;
        }
        if (attempt >= 5) throw err;
      }
      let holder: string;
      try {
        holder = await readFile(lockPath, 'utf8');
      } catch (err) {
        if (errorCode(err) === 'ENOENT') continue; // released meanwhile
        throw err;
      }
      const pid = Number.parseInt(holder.trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) throw new DataDirLockedError(dataDir, pid);
      try {
        await unlink(lockPath); // stale: its process is gone
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
      }
    }
  } finally {
    await unlink(tmpPath).catch(() => {});
  }

  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      if ((await readFile(lockPath, 'utf8')) === content) await unlink(lockPath);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
  };
}

export { errorCode };
