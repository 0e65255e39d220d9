/**
 * CPU time of the bench's processes (Linux /proc), to say where a scenario's CPU goes: the Temporal server, the plane
 * worker, the baseline worker and the bench process itself (load generator, client and demo target). On other
 * systems the figures are null and the scenario reports without them.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/** CPU seconds (user + system) a process has used, its threads included; null if it cannot be read. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return null;
  }
}

/** The PID of the process whose command line contains every one of `needles` (first found), or null. */
export function findProcess(needles: string[]): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (needles.every((n) => cmdline.includes(n))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

export type CpuRole = 'server' | 'planeWorker' | 'baselineWorker' | 'bench';

/** Milliseconds of CPU per unit of work, by process, over one measured window. */
export type CpuPerUnit = Partial<Record<CpuRole, number>> & { total: number };

/** Starts a window; the returned function ends it and divides each process's CPU by `units`. */
export function cpuWindow(pids: Partial<Record<Exclude<CpuRole, 'bench'>, number | null>>): (units: number) => CpuPerUnit | null {
  const start = snapshot(pids);
  return (units) => {
    const end = snapshot(pids);
    if (!start || !end) return null;
    const out: CpuPerUnit = { total: 0 };
    for (const role of Object.keys(end) as CpuRole[]) {
      const ms = ((end[role]! - start[role]!) * 1000) / units;
      out[role] = Math.round(ms * 10) / 10;
      out.total += ms;
    }
    out.total = Math.round(out.total * 10) / 10;
    return out;
  };
}

function snapshot(pids: Partial<Record<Exclude<CpuRole, 'bench'>, number | null>>): Partial<Record<CpuRole, number>> | null {
  const out: Partial<Record<CpuRole, number>> = {};
  for (const [role, pid] of Object.entries(pids) as [CpuRole, number | null][]) {
    if (pid == null) continue;
    const s = processCpuSeconds(pid);
    if (s === null) return null;
    out[role] = s;
  }
  const own = process.cpuUsage();
  out.bench = (own.user + own.system) / 1e6;
  return out;
}
