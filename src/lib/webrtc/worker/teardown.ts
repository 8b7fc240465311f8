/**
 * Ending the worker without nodeDataChannel.cleanup(): under Node 20 that call aborted the whole
 * process (a native abort, which no JS handler sees). Instead every channel and peer is tracked
 * here and closed in order (channels, then peers), and process exit tears down the rest.
 */
import type {DataChannel, PeerConnection} from 'node-datachannel'

const open: {dcs: DataChannel[]; pcs: PeerConnection[]} = {dcs: [], pcs: []}
let finishing = false

export function trackChannel(dc: DataChannel): void {
  open.dcs.push(dc)
}

export function trackPeer(pc: PeerConnection): void {
  open.pcs.push(pc)
}

/** Closes everything tracked, gives the native threads a moment, then exits with `code` (once). */
export async function finish(code: number): Promise<void> {
  if (finishing) return
  finishing = true
  for (const dc of open.dcs) {
    try {
      dc.close()
    } catch {
      /* already closed */
    }
  }
  for (const pc of open.pcs) {
    try {
      pc.close()
    } catch {
      /* already closed */
    }
  }
  await new Promise((r) => setTimeout(r, 50))
  process.exit(code)
}
