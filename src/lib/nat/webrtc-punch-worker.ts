/**
 * The WebRTC punch attempts of `nat reach --transport webrtc`, run in a child process: they load
 * node-datachannel (through @libp2p/webrtc), whose native threads can outlive a failed ICE check and
 * whose crashes JS cannot catch, so the CLI keeps it out of its own process as the webrtc commands
 * do. The parent sends one job over IPC; each attempt comes back as it ends; then this process
 * exits whatever native state is left.
 */
import {punchOnceWebRtc, type WebRtcPunchJob} from './webrtc-punch.js'

process.on('message', (job: WebRtcPunchJob) => {
  void (async () => {
    for (let i = 1; i <= job.attempts; i++) {
      const attempt = await punchOnceWebRtc(i, job.relay, job.peer, {timeoutMs: job.timeoutMs, webrtc: {stun: job.stun}}).catch((err: unknown) => ({attempt: i, outcome: 'UNKNOWN' as const, error: (err as Error)?.message ?? String(err)}))
      await new Promise<void>((resolve) => process.send!({op: 'attempt', attempt}, undefined, {}, () => resolve()))
    }
    await new Promise<void>((resolve) => process.send!({op: 'done'}, undefined, {}, () => resolve()))
    process.exit(0)
  })()
})
process.send?.({op: 'ready'})
