import type { IncomingMessage } from 'node:http';
import { isPlainObject } from '../../model/json.js';
import type { DockerApi } from './docker-api.js';
import { DockerApiError } from './docker-api.js';
import { backoffMs, sleep } from '../../util/retry.js';

/**
 * Container exits from the engine's event stream: one `GET /events` (die events of containers) for
 * every container the agent waits on, instead of one `POST /containers/{id}/wait` each. podman's wait
 * polls the container's state in a tight loop: ten waiting containers held its service at 125 % of a
 * core (bench/pod-start.ts measured 120 % with 20 idle pods), the engine load the issue saw. Whatever
 * the stream misses (it was down, or the container died before anyone waited) is found by inspecting
 * the waited containers each time the stream (re)opens.
 */
export class ContainerExits {
  private readonly waiters = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  private stream?: IncomingMessage;
  private running?: Promise<void>;
  private closed = false;

  constructor(private readonly api: DockerApi) {}

  /** Resolves once the container is not running (exited, or gone). */
  waitFor(id: string): Promise<void> {
    let w = this.waiters.get(id);
    if (!w) {
      let resolve = () => {};
      const promise = new Promise<void>((r) => (resolve = r));
      w = { promise, resolve };
      this.waiters.set(id, w);
    }
    // Listening again after close(): an agent stopped earlier may still be told to stop its pods.
    if (!this.running) {
      this.closed = false;
      this.running = this.listen().finally(() => (this.running = undefined));
    }
    // It may have exited before this waiter was registered: the stream would never say so.
    void this.check(id);
    return w.promise;
  }

  private exited(id: string) {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    w.resolve();
  }

  /** Looks again now (after a stop or remove this runtime made): resolves the waiter when it is not running. */
  async recheck(id: string): Promise<void> {
    if (this.waiters.has(id)) await this.check(id);
  }

  private async check(id: string): Promise<void> {
    const running = await this.api.call<{ State?: { Running?: boolean } }>('GET', `/containers/${id}/json`).then(
      (i) => !!i.State?.Running,
      // Gone (404) counts as exited; an engine that does not answer is asked again when the stream reopens.
      (e: unknown) => !(e instanceof DockerApiError && e.status === 404),
    );
    if (!running) this.exited(id);
  }

  private async listen(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        // Unfiltered: podman 4.3 sends nothing at all for an `event` filter. The stream is small (a few
        // events per container start and stop) and read here, not in the engine.
        const res = await this.api.open('GET', '/events');
        if ((res.statusCode ?? 500) >= 400) throw new Error(`events: ${res.statusCode}`);
        this.stream = res;
        attempt = 0;
        // Listening before anything else: a stream that closes while the checks below run must still end this round.
        const ended = new Promise<void>((resolve) => {
          let pending = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            pending += chunk;
            let nl: number;
            while ((nl = pending.indexOf('\n')) >= 0) {
              const line = pending.slice(0, nl).trim();
              pending = pending.slice(nl + 1);
              if (!line) continue;
              try {
                const e: unknown = JSON.parse(line);
                if (!isPlainObject(e) || e.Type !== 'container') continue;
                const action = e.Action ?? e.status;
                if (action !== 'die' && action !== 'remove') continue;
                const id = isPlainObject(e.Actor) && typeof e.Actor.ID === 'string' ? e.Actor.ID : e.id;
                if (typeof id === 'string') this.exited(id);
              } catch {
                // not an event line
              }
            }
          });
          res.on('end', resolve);
          res.on('error', () => resolve());
          res.on('close', resolve);
          if (res.destroyed) resolve();
        });
        // What happened while the stream was down.
        await Promise.all([...this.waiters.keys()].map((id) => this.check(id)));
        await ended;
      } catch {
        // the engine is restarting: try again
      }
      if (!this.closed) await sleep(backoffMs(attempt, { baseMs: 200, maxMs: 5_000 }));
    }
  }

  /**
   * Stops listening. Waiters stay pending on purpose: the agent is going and its containers stay
   * running; a released waiter would read as an exit and restart a twin.
   */
  close(): void {
    this.closed = true;
    this.stream?.destroy();
  }
}
