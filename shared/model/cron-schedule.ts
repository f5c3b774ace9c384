import { CronExpressionParser } from 'cron-parser';

/**
 * A CronJob's schedule as Kubernetes reads it: robfig/cron v3's standard parser (exactly five fields:
 * minute, hour, day of month, month, day of week; names for months and days; `*`, `?`, ranges, steps
 * and lists; the descriptors `@yearly` … `@hourly` and `@every <duration>`; an optional `TZ=`/`CRON_TZ=`
 * prefix). The grammar is checked here, with robfig's error messages, because that is what decides
 * which schedules Kubernetes accepts; the times themselves (time zones, daylight saving, day-of-month
 * or day-of-week) come from cron-parser.
 */

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
/** robfig's bounds per field, and the names each field takes. */
const FIELDS: { min: number; max: number; names?: Record<string, number> }[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: Object.fromEntries(MONTHS.map((m, i) => [m, i + 1])) },
  { min: 0, max: 6, names: Object.fromEntries(DAYS.map((d, i) => [d, i])) },
];

export class ScheduleError extends Error {}

/** Go's time.ParseDuration, for `@every`: a sequence of decimal numbers with units (h, m, s, ms, us, µs, ns). */
function goDurationMs(s: string): number | undefined {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  if (s === '0') return 0;
  let total = 0;
  let at = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    at = re.lastIndex;
  }
  return at === s.length && at > 0 ? total : undefined;
}

/** getRange: one `a`, `a-b`, `*` or `?`, with an optional `/step`, checked as robfig checks it. */
function checkRange(expr: string, field: (typeof FIELDS)[number]): void {
  const [range = '', step, ...more] = expr.split('/');
  if (more.length) throw new ScheduleError(`too many slashes: ${expr}`);
  const [lo, hi, ...extra] = range.split('-');
  if (extra.length) throw new ScheduleError(`too many hyphens: ${expr}`);
  const value = (s: string): number => {
    const named = field.names?.[s.toLowerCase()];
    if (named !== undefined) return named;
    if (!/^-?\d+$/.test(s))
      throw new ScheduleError(`failed to parse int from ${s}: strconv.Atoi: parsing "${s}": invalid syntax`);
    const n = Number(s);
    if (n < 0) throw new ScheduleError(`negative number (${n}) not allowed: ${s}`);
    return n;
  };
  let start: number;
  let end: number;
  if (lo === '*' || lo === '?') [start, end] = [field.min, field.max];
  else {
    start = value(lo ?? '');
    end = hi === undefined ? (step !== undefined ? field.max : start) : value(hi);
  }
  if (start < field.min) throw new ScheduleError(`beginning of range (${start}) below minimum (${field.min}): ${expr}`);
  if (end > field.max) throw new ScheduleError(`end of range (${end}) above maximum (${field.max}): ${expr}`);
  if (start > end) throw new ScheduleError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step !== undefined && !(value(step) > 0))
    throw new ScheduleError(`step of range should be a positive number: ${expr}`);
}

export interface CronSchedule {
  /** The first scheduled time strictly after `after` (whole seconds), or undefined if none comes within five years. */
  next(after: Date): Date | undefined;
}

/**
 * ParseStandard: the schedule, or a ScheduleError with robfig's message. `timeZone` (the CronJob's
 * field) applies unless the schedule names one itself; without either, times are UTC.
 */
export function parseSchedule(schedule: string, timeZone?: string): CronSchedule {
  let spec = schedule.trim();
  if (!spec) throw new ScheduleError('empty spec string');
  let tz = timeZone ?? 'UTC';
  const prefix = /^(?:CRON_)?TZ=(\S*)\s+/.exec(spec);
  if (prefix) {
    tz = prefix[1] ?? '';
    if (timeZoneProblem(tz)) throw new ScheduleError(`provided bad location ${tz}: unknown time zone ${tz}`);
    spec = spec.slice(prefix[0].length).trim();
  }
  if (spec.startsWith('@every ')) {
    const ms = goDurationMs(spec.slice('@every '.length).trim());
    if (ms === undefined)
      throw new ScheduleError(`failed to parse duration ${spec}: time: invalid duration "${spec.slice(7)}"`);
    // ConstantDelaySchedule: at least a second, in whole seconds.
    const every = Math.max(1_000, Math.floor(ms / 1_000) * 1_000);
    return { next: (after) => new Date(Math.floor(after.getTime() / 1_000) * 1_000 + every) };
  }
  if (spec.startsWith('@')) {
    const expanded = DESCRIPTORS[spec];
    if (!expanded) throw new ScheduleError(`unrecognized descriptor: ${spec}`);
    spec = expanded;
  }
  const fields = spec.split(/\s+/);
  if (fields.length !== 5)
    throw new ScheduleError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  fields.forEach((f, i) => f.split(',').forEach((part) => checkRange(part, FIELDS[i] as (typeof FIELDS)[number])));
  const expression = fields.join(' ');
  const horizon = 5 * 366 * 24 * 3_600_000;
  return {
    next(after) {
      try {
        const at = CronExpressionParser.parse(expression, {
          currentDate: new Date(Math.floor(after.getTime() / 1000) * 1000),
          tz,
        })
          .next()
          .toDate();
        return at.getTime() - after.getTime() > horizon ? undefined : at;
      } catch {
        return undefined; // a date that never comes (the 30th of February)
      }
    },
  };
}

/** The schedule's problem as validation words it, or undefined. */
export function scheduleProblem(schedule: string): string | undefined {
  try {
    parseSchedule(schedule);
    return undefined;
  } catch (e) {
    return e instanceof ScheduleError ? e.message : String(e);
  }
}

/** validateTimeZone: an explicit IANA zone Node's time zone data knows, worded as Kubernetes words it. */
export function timeZoneProblem(tz: string): string | undefined {
  if (tz === '') return 'timeZone must be nil or non-empty string';
  for (const part of tz.split('/'))
    if (part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z.\-_0-9+]{1,14}$/.test(part))
      return `unknown time zone ${tz}`;
  if (tz.toLowerCase() === 'local')
    return 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones';
  try {
    // Intl takes any letter case (`utc`, `europe/berlin`); Go's LoadLocation, and so Kubernetes, does not.
    // A name it resolves to another (an alias such as Etc/UTC) is a name of its own.
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    return resolved !== tz && resolved.toLowerCase() === tz.toLowerCase() ? `unknown time zone ${tz}` : undefined;
  } catch {
    return `unknown time zone ${tz}`;
  }
}
