/**
 * One end of `webrtc listen` / `webrtc dial`: the descriptions go through the parent (which relays
 * them over the signaller) and the measurement runs over the data channel to the other machine.
 */
import type {DataChannel} from 'node-datachannel'

import type {LinkMeasurement, LinkSide, WorkerTask} from '../types.js'
import {linkOf, type Link} from './channel.js'
import {nextMessage, send} from './ipc.js'
import {dial, listen} from './link-protocol.js'
import {emptyMeasurement, pathOf, readSide, recordDial} from './link-report.js'
import {logsSince} from './native-log.js'
import {holdCandidates} from './offer.js'
import {Peer, sleep} from './peer.js'
import {trackChannel} from './teardown.js'

export async function peerTask(task: Extract<WorkerTask, {kind: 'peer'}>): Promise<LinkMeasurement> {
  const t = performance.now()
  const res = emptyMeasurement(task.bytes)
  const p = new Peer(task.role, task.iceServers, task.policy)
  let dc: DataChannel | undefined
  let opened = false
  const onOpen = (c: DataChannel) => {
    c.onOpen(() => {
      opened = true
      p.mark('dc-open')
      p.wake()
    })
  }
  let link: Link | undefined
  if (task.role === 'answerer') {
    p.pc.onDataChannel((c) => {
      dc = c
      trackChannel(c)
      link = linkOf(c)
      opened = true
      p.mark('dc-open')
      p.wake()
    })
  }
  let own: LinkSide | undefined
  let remote: LinkSide | undefined
  try {
    if (task.role === 'offerer') {
      dc = p.pc.createDataChannel('probe')
      trackChannel(dc)
      link = linkOf(dc)
      onOpen(dc)
      await p.gathered(task.gatherTimeoutMs, 150)
      await send({op: 'local-description', sdpType: 'offer', sdp: p.localSdp()})
      const ans = await nextMessage('remote-description', 10 * 60_000)
      p.setRemote(ans.sdp, 'answer')
      await send({op: 'answer-applied'})
    } else {
      const off = await nextMessage('remote-description', 10 * 60_000)
      // The offer's candidates wait until the offerer has applied our answer (see holdCandidates).
      const held = holdCandidates(off.sdp)
      p.setRemote(held.sdp, 'offer')
      p.remoteCandidates = held.candidates.length
      await p.gathered(task.gatherTimeoutMs, 150)
      await send({op: 'local-description', sdpType: 'answer', sdp: p.localSdp()})
      // Released by the offerer's 'applied', by our ICE connecting (its checks reached us, so it
      // has our answer), or after holdCandidatesMs, whichever comes first.
      const iceConnected = p.until(() => p.events.some((e) => e.name === 'ice:connected' || e.name === 'ice:completed'), task.holdCandidatesMs ?? 0).then((connected) => {
        if (!connected) throw new Error('not connected')
      })
      void Promise.any([nextMessage('release-candidates', task.holdCandidatesMs ?? 0), iceConnected])
        .then(() => p.mark('candidates-released'))
        .catch(() => p.mark('candidates-released-by-timeout'))
        .then(() => p.addHeldCandidates(held.candidates, held.mid))
    }
    const connectStart = performance.now()
    const ok = await p.until(() => opened || p.state === 'failed' || p.state === 'closed', task.connectTimeoutMs)
    if (!ok || !opened || !dc || !link) {
      res.reason = p.state === 'failed' ? 'ICE failed: no candidate pair worked' : `no connection within ${task.connectTimeoutMs} ms`
    } else {
      res.openMs = Math.round((performance.now() - connectStart) * 10) / 10
      const ice = p.events.find((e) => e.name === 'ice:connected')
      if (ice) res.iceConnectedMs = Math.max(0, Math.round((ice.atMs - (connectStart - p.t0)) * 10) / 10)
      if (task.role === 'offerer') {
        const m = await dial(link.channel, link.inbox, {pings: task.pings, bytes: task.bytes, ownReport: () => p.side('offerer')})
        recordDial(res, m, task.bytes)
        remote = readSide(m.remote)
      } else {
        const served = await listen(link.channel, link.inbox, () => p.side('answerer'), 180_000)
        remote = readSide(served.remote)
        own = served.own
        await sleep(200)
      }
      res.ok = true
    }
  } catch (err) {
    res.reason = (err as Error).message
  }
  // Once the dialer has closed, node-datachannel may no longer name the selected pair: keep the one
  // we reported to the dialer, so both ends print the same answerer pair.
  const last = p.side(task.role)
  own = last.selectedPair || !own?.selectedPair ? last : own
  if (task.role === 'offerer') {
    res.offerer = own
    if (remote) res.answerer = remote
  } else {
    res.answerer = own
    if (remote) res.offerer = remote
  }
  res.path = pathOf(res.offerer, res.answerer)
  res.logs = logsSince(t)
  return res
}
