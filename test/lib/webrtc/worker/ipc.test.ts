/**
 * The worker's mailbox. Node's IPC (JSON serialization) delivers whole messages, so there is no
 * framing to test: only that each step takes the first message of its op, in any arrival order.
 */
import {describe, expect, it} from 'vitest'

import {Mailbox} from '../../../../src/lib/webrtc/worker/ipc.js'

describe('worker Mailbox', () => {
  it('returns messages by op, whatever arrived first', async () => {
    const box = new Mailbox()
    box.push({op: 'release-candidates'})
    box.push({op: 'remote-description', sdpType: 'offer', sdp: 'v=0'})
    expect(await box.next('remote-description', 100)).toEqual({op: 'remote-description', sdpType: 'offer', sdp: 'v=0'})
    expect(await box.next('release-candidates', 100)).toEqual({op: 'release-candidates'})
  })

  it('waits for a message still to come, and times out with a plain error', async () => {
    const box = new Mailbox()
    setTimeout(() => box.push({op: 'abort'}), 5)
    expect(await box.next('abort', 2000)).toEqual({op: 'abort'})
    await expect(box.next('run', 20)).rejects.toThrow('timed out after 20 ms waiting for the remote description')
  })

  it('skips junk without an op', async () => {
    const box = new Mailbox()
    box.push(null as never)
    box.push({} as never)
    box.push({op: 'release-candidates'})
    expect(await box.next('release-candidates', 100)).toEqual({op: 'release-candidates'})
  })
})
