/** Process measurements the benchmarks share. */
import {readFileSync} from 'node:fs'

/** CPU time (ms) a process has used so far, from /proc (Linux: utime + stime at USER_HZ = 100), NaN elsewhere. */
export function procCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return Number.NaN
  }
}
