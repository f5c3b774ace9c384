import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trimLog, type ContainerLogRef, type LogReadOptions, type LogStore, type LogWriter } from './log-store.js';

/** Offline log store: one file per container instance under a directory the agents and the API share. */
export class FileLogStore implements LogStore {
  constructor(private readonly dir: string) {}

  open(ref: ContainerLogRef, opts: { rotate: boolean }): LogWriter {
    const dir = this.dirOf(ref);
    mkdirSync(dir, { recursive: true });
    const current = join(dir, `${ref.container}.log`);
    if (opts.rotate && existsSync(current)) renameSync(current, join(dir, `${ref.container}.previous.log`));
    const stream = createWriteStream(current, { flags: 'a' });
    return {
      write: (chunk) => void stream.write(chunk),
      close: () => new Promise<void>((resolve) => stream.end(resolve)),
    };
  }

  async read(ref: ContainerLogRef, opts: LogReadOptions): Promise<string | undefined> {
    const file = join(this.dirOf(ref), `${ref.container}${opts.previous ? '.previous' : ''}.log`);
    try {
      return trimLog(await readFile(file, 'utf8'), opts);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Names are DNS labels/subdomains, so they are safe path segments; the uid separates namesakes. */
  private dirOf(ref: ContainerLogRef) {
    return join(this.dir, `${ref.namespace}_${ref.pod}_${ref.podUid}`);
  }
}
