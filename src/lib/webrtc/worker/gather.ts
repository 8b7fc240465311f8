/** The probe's gathering task: one PeerConnection per run, and the candidates it gathered when. */
import type {GatherResult, GatherRun} from '../types.js'
import {logsSince} from './native-log.js'
import {Peer} from './peer.js'
import {trackChannel} from './teardown.js'

export async function gatherOne(run: GatherRun): Promise<GatherResult> {
  const t = performance.now()
  const result: GatherResult = {id: run.id, candidates: [], completeMs: null, firstSrflxMs: null, firstRelayMs: null, logs: [], turnAuthFailed: false}
  let peer: Peer
  try {
    peer = new Peer(`gather-${run.id}`, run.iceServers, run.policy)
    const dc = peer.pc.createDataChannel('gather')
    trackChannel(dc)
  } catch (err) {
    result.error = (err as Error).message
    return result
  }
  await peer.gathered(run.timeoutMs, run.graceMs)
  const complete = peer.events.find((e) => e.name === 'gathering:complete')
  result.completeMs = complete ? complete.atMs : null
  result.candidates = [...peer.candidates.values()]
  const first = (type: string) => {
    const xs = result.candidates.filter((c) => c.type === type && c.atMs !== undefined).map((c) => c.atMs!)
    return xs.length ? Math.min(...xs) : result.candidates.some((c) => c.type === type) ? result.completeMs : null
  }
  result.firstSrflxMs = first('srflx')
  result.firstRelayMs = first('relay')
  result.logs = logsSince(t)
  result.turnAuthFailed = result.logs.some((l) => /TURN authentication failed|401|Unauthorized/i.test(l))
  return result
}
