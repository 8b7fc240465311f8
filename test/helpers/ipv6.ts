/** Whether this kernel has IPv6 loopback; CI must have it (dual-stack tests may not be skipped there). */
import {createSocket} from 'node:dgram'

export async function ipv6LoopbackAvailable(): Promise<boolean> {
  const ok = await new Promise<boolean>((resolve) => {
    const s = createSocket('udp6')
    s.once('error', () => resolve(false))
    s.bind(0, '::1', () => s.close(() => resolve(true)))
  })
  if (!ok && process.env.CI) throw new Error('CI needs IPv6 loopback (::1) for the dual-stack tests')
  return ok
}
