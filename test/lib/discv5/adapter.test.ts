import {createSocket, type Socket} from 'node:dgram'

import {Discv5, multiaddrFromSocketAddress} from '@chainsafe/discv5'
import {SignableENR} from '@chainsafe/enr'
import {privateKeyFromRaw} from '@libp2p/crypto/keys'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {
  DISCV5_ADAPTER_MISMATCH,
  PINNED_DISCV5_VERSION,
  assertDiscv5Adapter,
  checkDiscv5Shape,
  discv5AdapterProblems,
  installedDiscv5Shape,
  installedDiscv5Version,
  isRequestFailure,
  isRequestTimeout,
  makeTimeoutsLagTolerant,
  requestErrorType,
  type Discv5Shape,
  type TimeoutPhase,
} from '../../../src/lib/discv5/adapter/index.js'
import {startNode, type StartedNode} from '../../../src/lib/discv5/node.js'
import {ConfigError} from '../../../src/lib/errors.js'
import {pristineDiscv5Dir, randomKey} from './helpers.js'

/** A node made by the library's factory, not started (what the check inspects). */
function probeNode(): Discv5 {
  const key = randomKey()
  return Discv5.create({
    enr: SignableENR.createV4(key),
    privateKey: privateKeyFromRaw(key) as never,
    bindAddrs: {ip4: multiaddrFromSocketAddress({ip: {type: 4, octets: Uint8Array.of(127, 0, 0, 1)}, port: 0})} as never,
    config: {protocolId: 'd5waku'},
  })
}

function mismatch(shape: Discv5Shape): ConfigError {
  try {
    checkDiscv5Shape(shape)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).code).toBe(DISCV5_ADAPTER_MISMATCH)
    expect((error as ConfigError).message).toContain(PINNED_DISCV5_VERSION)
    return error as ConfigError
  }
  throw new Error('the check passed')
}

describe('discv5 adapter check', () => {
  it('passes on the installed, patched library', () => {
    expect(installedDiscv5Version()).toBe('11.0.0')
    expect(discv5AdapterProblems(installedDiscv5Shape())).toEqual([])
    expect(() => assertDiscv5Adapter()).not.toThrow()
    // With a probe given instead of made.
    expect(discv5AdapterProblems({...installedDiscv5Shape(), probe: probeNode()})).toEqual([])
  })

  it('names the pinned and the installed version when they differ', () => {
    const error = mismatch({...installedDiscv5Shape(), version: '11.0.1'})
    expect(error.message).toMatch(/installed version is 11\.0\.1/)
    expect(error.details).toMatchObject({pinned: '11.0.0', installed: '11.0.1'})
    expect(error.hint).toMatch(/patch-package/)
  })

  it('throws when a private member is missing', () => {
    const probe = probeNode()
    Object.defineProperty(probe, 'connectionUpdated', {value: undefined})
    expect(mismatch({...installedDiscv5Shape(), probe}).message).toMatch(/Discv5#connectionUpdated/)

    const renamed = probeNode() as unknown as {sessionService: {activeRequests: unknown}}
    renamed.sessionService.activeRequests = new Map()
    expect(mismatch({...installedDiscv5Shape(), probe: renamed}).message).toMatch(/activeRequests\.setTimeout/)

    const noSlot = probeNode() as unknown as {sessionService: {transport: Record<string, unknown>}}
    delete noSlot.sessionService.transport['ip4']
    expect(mismatch({...installedDiscv5Shape(), probe: noSlot}).message).toMatch(/UDPTransportService#ip4/)
  })

  it('throws when the package lacks an export the adapter uses', () => {
    const shape = installedDiscv5Shape()
    const error = mismatch({...shape, entry: {...shape.entry, setDiscv5Crypto: undefined}})
    expect(error.message).toMatch(/exports no setDiscv5Crypto \(not patched\)/)
    expect(mismatch({...shape, entry: {...shape.entry, Discv5: undefined}}).message).toMatch(/exports no Discv5/)
  })

  it('throws on the published library (the patch not applied)', async () => {
    const dir = pristineDiscv5Dir()
    const shape: Discv5Shape = {version: '11.0.0', entry: await import(`${dir}/lib/index.js`), packet: await import(`${dir}/lib/packet/index.js`)}
    const problems = discv5AdapterProblems(shape)
    expect(problems).toContain('the package exports no setDiscv5Crypto (not patched)')
    expect(problems).toContain('@chainsafe/discv5/packet has no protocol id (not patched)')
    expect(problems).toContain('a node ignores config.protocolId (not patched)')
  })
})

describe('request timeout classifier', () => {
  let client: StartedNode
  let silent: Socket
  let silentPort: number

  beforeAll(async () => {
    client = await startNode({privateKey: randomKey(), protocolId: 'd5waku', bindHost: '127.0.0.1', config: {requestTimeout: 300, requestRetries: 0}})
    // A UDP port that takes every packet and answers none.
    silent = createSocket('udp4')
    silentPort = await new Promise<number>((resolve) => silent.bind(0, '127.0.0.1', () => resolve(silent.address().port)))
  })

  afterAll(async () => {
    await client?.stop()
    await new Promise<void>((resolve) => silent?.close(() => resolve()))
  })

  function silentRecord() {
    const enr = SignableENR.createV4(randomKey())
    enr.ip = '127.0.0.1'
    enr.udp = silentPort
    return enr.toENR()
  }

  it('recognises a real timeout of a real node on loopback by its code, not its text', async () => {
    const error = await client.discv5.sendFindNode(silentRecord(), [0]).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(Error)
    expect(requestErrorType(error)).toBe('Timeout')
    expect(isRequestTimeout(error)).toBe(true)
    expect(isRequestFailure(error)).toBe(true)
    // The message says nothing about a timeout; text that does is not classified.
    expect((error as Error).message).not.toMatch(/timeout/i)
    expect(isRequestTimeout(new Error('request timeout'))).toBe(false)
    expect(isRequestFailure(Object.assign(new Error('RPC failure'), {code: 'Timeout'}))).toBe(false)
  })

  it('still recognises it behind the lag-tolerant timer, which reports the stage', async () => {
    const phases: TimeoutPhase[] = []
    makeTimeoutsLagTolerant(client.discv5, () => 0, {challengeTimeoutMs: () => 100, onTimeout: (_id, phase) => phases.push(phase)})
    const started = performance.now()
    const error = await client.discv5.sendFindNode(silentRecord(), [0]).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isRequestTimeout(error)).toBe(true)
    expect(phases).toEqual(['challenge'])
    // The shorter wait for a missing WHOAREYOU, not the 300 ms request timeout.
    expect(performance.now() - started).toBeLessThan(290)
  })
})
