/**
 * libjuice/libdatachannel log lines at Warning and above, kept in memory (bounded) so a task can
 * put the lines logged while it ran into its result. Loading this module sets the native logger.
 */
import nodeDataChannel from 'node-datachannel'

const logs: {t: number; text: string}[] = []
nodeDataChannel.initLogger('Warning', (level, message) => {
  if (logs.length < 500) logs.push({t: performance.now(), text: `${level}: ${message}`.slice(0, 300)})
})

/** Lines logged since `t` (a performance.now() value). */
export function logsSince(t: number): string[] {
  return logs.filter((l) => l.t >= t).map((l) => l.text)
}
