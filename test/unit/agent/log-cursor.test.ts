import { describe, expect, it } from 'vitest';
import { LogCursor } from '../../../shared/agent/runtime/log-cursor.js';

/** Resuming a container's log stream: every line once, in order, whatever the engine's stamp resolution. */
describe('LogCursor', () => {
  it('passes each line on once across reconnects when several lines share a second (podman)', () => {
    const c = new LogCursor();
    const out: string[] = [];
    const feed = (frames: string[]) => {
      c.reopened();
      for (const f of frames) {
        const t = c.accept(f);
        if (t !== undefined) out.push(t);
      }
    };
    feed(['2026-11-28T08:39:01Z a\n', '2026-11-28T08:39:01Z b\n']);
    expect(c.resumeAt()).toBe(Date.parse('2026-11-28T08:39:01Z') / 1000);
    // The engine answers from that second again: a and b are repeated, c and d are new.
    feed([
      '2026-11-28T08:39:01Z a\n',
      '2026-11-28T08:39:01Z b\n',
      '2026-11-28T08:39:01Z c\n',
      '2026-11-28T08:39:02Z d\n',
    ]);
    feed(['2026-11-28T08:39:02Z d\n', '2026-11-28T08:39:09Z e\n']);
    expect(out).toEqual(['a\n', 'b\n', 'c\n', 'd\n', 'e\n']);
  });

  it('compares nanosecond stamps exactly (Docker) and passes unstamped frames through', () => {
    const c = new LogCursor();
    expect(c.accept('2026-11-28T08:39:01.000000002Z x\n')).toBe('x\n');
    c.reopened();
    expect(c.accept('2026-11-28T08:39:01.000000001Z old\n')).toBeUndefined();
    expect(c.accept('2026-11-28T08:39:01.000000002Z x\n')).toBeUndefined();
    expect(c.accept('2026-11-28T08:39:01.00000001Z y\n')).toBe('y\n');
    expect(c.accept('2026-11-28T10:39:01+02:00 earlier, in another zone\n')).toBeUndefined();
    expect(c.accept('2026-11-28T10:39:02+02:00 a second later\n')).toBe('a second later\n');
    expect(c.accept('no stamp\n')).toBe('no stamp\n');
  });
});
