/**
 * The link protocol (ping/pong, bulk bytes, report swap) over an in-memory channel pair: ordered,
 * asynchronous delivery with a send buffer that drains as messages arrive, so the bulk sender's
 * back-pressure path runs too.
 */
import {readFileSync} from 'node:fs'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {ProtocolError, UnreachableError, WakuDiscError} from '../../../src/lib/errors.js'
import {CHUNK, dial, HIGH_WATER, LinkInbox, listen, MAX_QUEUED, MAX_TEXT, median, REPORT_LIMIT, type LinkChannel} from '../../../src/lib/webrtc/worker/link-protocol.js'
import {emptyMeasurement, readSide, recordDial} from '../../../src/lib/webrtc/worker/link-report.js'

type Frame = string | {binary: number}

interface End {
  channel: LinkChannel
  inbox: LinkInbox
  /** Every frame this end sent, in order. */
  sent: Frame[]
  maxBuffered: number
}

/** Two connected ends: what one sends arrives at the other's inbox, in order, a macrotask later. */
function channelPair(): [End, End] {
  const make = (): End & {peer?: End} => {
    const inbox = new LinkInbox()
    let buffered = 0
    let threshold = 0
    let low: (() => void) | undefined
    const queue: Frame[] = []
    let scheduled = false
    const end: End & {peer?: End} = {
      inbox,
      sent: [],
      maxBuffered: 0,
      channel: {
        sendText: (text) => push(text),
        sendBinary: (bytes) => push({binary: bytes.byteLength}),
        bufferedAmount: () => buffered,
        setBufferedAmountLowThreshold: (n) => (threshold = n),
        onBufferedAmountLow: (cb) => (low = cb),
      },
    }
    const size = (f: Frame) => (typeof f === 'string' ? f.length : f.binary)
    const push = (f: Frame) => {
      end.sent.push(f)
      queue.push(f)
      buffered += size(f)
      end.maxBuffered = Math.max(end.maxBuffered, buffered)
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    }
    const flush = () => {
      scheduled = false
      for (const f of queue.splice(0)) {
        const before = buffered
        buffered -= size(f)
        if (typeof f === 'string') end.peer!.inbox.text(f)
        else end.peer!.inbox.binary(f.binary)
        if (before > threshold && buffered <= threshold) low?.()
      }
    }
    return end
  }
  const a = make()
  const b = make()
  a.peer = b
  b.peer = a
  return [a, b]
}

const fast = {pongMs: 200, recvMs: 300, reportMs: 200}

describe('link protocol over an in-memory channel pair', () => {
  it('ping/pong: one RTT per ping, and the two reports are swapped', async () => {
    const [d, l] = channelPair()
    const served = listen(l.channel, l.inbox, () => ({role: 'answerer', n: 2}), 5000)
    const m = await dial(d.channel, d.inbox, {pings: 5, bytes: 0, ownReport: () => ({role: 'offerer', n: 1})})
    const s = await served
    expect(m.rtts).toHaveLength(5)
    for (const rtt of m.rtts) {
      expect(rtt).toBeGreaterThanOrEqual(0)
      expect(Math.round(rtt * 1000) / 1000).toBe(rtt)
    }
    expect(m.transferMs).toBeNull()
    expect(m.remote).toEqual({role: 'answerer', n: 2})
    expect(s.remote).toEqual({role: 'offerer', n: 1})
    expect(s.own).toEqual({role: 'answerer', n: 2})
    expect(d.sent.filter((f) => typeof f === 'string' && f.startsWith('ping:'))).toEqual(['ping:0', 'ping:1', 'ping:2', 'ping:3', 'ping:4'])
    expect(l.sent).toEqual(['pong:0', 'pong:1', 'pong:2', 'pong:3', 'pong:4', 'report:{"role":"answerer","n":2}'])
    // No bulk transfer: no binary and no done.
    expect(d.sent.some((f) => typeof f !== 'string' || f.startsWith('done:'))).toBe(false)
  })

  it('bulk transfer: every byte counted, in CHUNK-sized messages, with the send buffer bounded', async () => {
    const bytes = 3 * HIGH_WATER + 12_345
    const [d, l] = channelPair()
    const served = listen(l.channel, l.inbox, () => ({}), 10_000)
    const m = await dial(d.channel, d.inbox, {pings: 1, bytes, ownReport: async () => ({async: true})})
    const s = await served
    expect(l.inbox.bytes()).toBe(bytes)
    expect(m.transferMs).toBeGreaterThan(0)
    expect(s.remote).toEqual({async: true})
    const chunks = d.sent.filter((f): f is {binary: number} => typeof f !== 'string')
    expect(chunks.reduce((n, c) => n + c.binary, 0)).toBe(bytes)
    expect(chunks.slice(0, -1).every((c) => c.binary === CHUNK)).toBe(true)
    expect(chunks.at(-1)!.binary).toBe(bytes % CHUNK)
    // The sender waits once more than HIGH_WATER is queued: at most one chunk above it.
    expect(d.maxBuffered).toBeLessThanOrEqual(HIGH_WATER + CHUNK + 64)
    expect(d.sent).toContain(`done:${bytes}`)
    expect(l.sent).toContain(`recv:${bytes}`)
    const res = emptyMeasurement(bytes)
    recordDial(res, m, bytes)
    expect(res.rttMedianMs).toBe(m.rtts[0])
    expect(res.throughputMbps).toBeGreaterThan(0)
  })

  it('a listener that counted other bytes: LINK_SHORT_TRANSFER, naming the peer', async () => {
    const [d, l] = channelPair()
    // A fake listener: answers the count with 1.
    void l.inbox.next((m) => m.startsWith('done:'), 5000).then(() => l.channel.sendText('recv:1'))
    const err = await dial(d.channel, d.inbox, {pings: 0, bytes: 40_000, peerName: 'the CLI', ownReport: () => ({})}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect(err).toMatchObject({code: 'LINK_SHORT_TRANSFER', message: 'the CLI received 1 of 40000 bytes'})
  })

  it('a silent peer: LINK_TIMEOUT (UnreachableError), not a hang', async () => {
    const [d] = channelPair()
    const err = await dial(d.channel, d.inbox, {pings: 1, bytes: 0, ownReport: () => ({}), timeouts: fast}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnreachableError)
    expect(err).toMatchObject({code: 'LINK_TIMEOUT', message: 'no answer on the data channel within 200 ms'})
    const [, l] = channelPair()
    const late = await listen(l.channel, l.inbox, () => ({}), 100).catch((e: unknown) => e)
    expect(late).toBeInstanceOf(UnreachableError)
    expect(late).toMatchObject({code: 'LINK_TIMEOUT'})
  })

  it('unknown text is skipped by the listener; a malformed or cut report reads as undefined', async () => {
    const [d, l] = channelPair()
    for (const junk of ['hello', 'pong:7', 'recv:5', 'ping:' + 'x'.repeat(30), '{"op":"x"}', '', 'done:not-a-number']) d.channel.sendText(junk)
    const served = listen(l.channel, l.inbox, () => 'x'.repeat(REPORT_LIMIT), 5000)
    const m = await dial(d.channel, d.inbox, {pings: 2, bytes: 0, ownReport: () => undefined})
    const s = await served
    expect(m.rtts).toHaveLength(2)
    // The listener's report is too long: cut (at REPORT_LIMIT, and to MAX_TEXT on arrival), no longer JSON.
    expect(m.remote).toBeUndefined()
    // JSON.stringify(undefined) is not JSON either.
    expect(s.remote).toBeUndefined()
    // The long "ping:" and the bad "done:" got no answer.
    expect(l.sent.filter((f) => typeof f === 'string' && (f.startsWith('pong:x') || f.startsWith('recv:')))).toEqual([])
  })

  it('fast-check: junk frames before a real dialer end in success or a typed failure, never a crash', async () => {
    const frame = fc.oneof(
      fc.string({maxLength: 40}),
      fc.constantFrom('ping:', 'ping:0', 'pong:0', 'done:', 'done:5', 'recv:', 'recv:0', 'report:', 'report:{', 'report:null', 'report:[1]'),
      fc.string({maxLength: 20}).map((s) => `report:${s}`),
      fc.nat({max: 70_000}).map((n) => ({binary: n})),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(frame, {maxLength: 12}), fc.nat({max: 3}), fc.nat({max: 40_000}), async (junk, pings, bytes) => {
        const [d, l] = channelPair()
        for (const f of junk) typeof f === 'string' ? d.channel.sendText(f) : d.channel.sendBinary(new Uint8Array(f.binary))
        const served = listen(l.channel, l.inbox, () => ({listener: true}), 1500).then(
          (v) => ({ok: true as const, v}),
          (e: unknown) => ({ok: false as const, e}),
        )
        const dialed = await dial(d.channel, d.inbox, {pings, bytes, ownReport: () => ({dialer: true}), timeouts: fast}).then(
          (v) => ({ok: true as const, v}),
          (e: unknown) => ({ok: false as const, e}),
        )
        // A dialer that gave up says a last word, so the listener need not wait out its deadline.
        if (!dialed.ok) d.channel.sendText('report:null')
        const listened = await served
        for (const r of [dialed, listened]) if (!r.ok) expect(r.e).toBeInstanceOf(WakuDiscError)
        const harmless = junk.every((f) => typeof f === 'string' && !/^(ping:|done:|report:)/.test(f))
        if (harmless) {
          expect(dialed.ok && listened.ok).toBe(true)
          if (dialed.ok) expect(dialed.v.rtts).toHaveLength(pings)
          if (listened.ok) expect(listened.v.remote).toEqual({dialer: true})
          expect(l.inbox.bytes()).toBe(bytes)
        }
      }),
      {numRuns: 40},
    )
  }, 120_000)

  it('fast-check: a dialer whose inbox holds junk from the other end still ends typed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.string({maxLength: 30}), fc.constantFrom('pong:0', 'recv:0', 'recv:-1', 'recv:1e3', 'report:', 'report:{}')), {maxLength: 10}), async (junk) => {
        const [d, l] = channelPair()
        for (const f of junk) l.channel.sendText(f)
        const served = listen(l.channel, l.inbox, () => ({}), 1500).catch((e: unknown) => e)
        const r = await dial(d.channel, d.inbox, {pings: 1, bytes: 1000, ownReport: () => ({}), timeouts: fast}).catch((e: Error) => e)
        if (r instanceof Error) d.channel.sendText('report:null')
        const s = await served
        if (s instanceof Error) expect(s).toBeInstanceOf(WakuDiscError)
        if (r instanceof Error) expect(r).toBeInstanceOf(WakuDiscError)
        else expect(r.rtts).toHaveLength(1)
      }),
      {numRuns: 40},
    )
  }, 120_000)
})

describe('LinkInbox', () => {
  it('cuts long text, drops text beyond the queue bound, counts binary without queueing it', async () => {
    const inbox = new LinkInbox()
    inbox.text('y'.repeat(MAX_TEXT + 10))
    inbox.binary(5)
    inbox.binary(7)
    for (let i = 1; i < MAX_QUEUED + 5; i++) inbox.text(`m${i}`)
    expect(inbox.bytes()).toBe(12)
    expect(await inbox.next(() => true, 10)).toHaveLength(MAX_TEXT)
    expect(await inbox.next((m) => m === `m${MAX_QUEUED - 1}`, 10)).toBe(`m${MAX_QUEUED - 1}`)
    await expect(inbox.next((m) => m === `m${MAX_QUEUED}`, 10)).rejects.toMatchObject({code: 'LINK_TIMEOUT'})
  })

  it('wakes a waiting reader as soon as text arrives', async () => {
    const inbox = new LinkInbox()
    const t = performance.now()
    setTimeout(() => inbox.text('late'), 5)
    expect(await inbox.next((m) => m === 'late', 2000)).toBe('late')
    expect(performance.now() - t).toBeLessThan(1000)
  })

  it('median', () => {
    expect(median([])).toBeNull()
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 2, 3])).toBe(2.5)
    expect(median([0.1234567])).toBe(0.123)
  })
})

describe('the report the other end sends (untrusted)', () => {
  it('keeps only well-typed fields, bounded', () => {
    const side = readSide({
      role: 'offerer',
      selectedPair: {local: {type: 'relay-and-more', address: 'a'.repeat(100), port: 1, transport: 'udp'}, remote: {type: 'host', address: '10.0.0.1', port: 2}},
      iceRttMs: '5',
      dtlsRole: 'client',
      localCandidates: [...Array(30)].map((_, i) => ({type: 'host', address: `10.0.0.${i}`, port: i, transport: 'udp'})),
      remoteCandidates: 3,
      events: [{name: 'x', atMs: 1}],
    })!
    expect(side.role).toBe('offerer')
    expect(side.selectedPair?.local).toEqual({type: 'relay-an', address: 'a'.repeat(64), port: 1, transport: 'udp'})
    expect(side.selectedPair?.remote.transport).toBe('')
    expect(side.iceRttMs).toBeNull()
    expect(side.localCandidates).toHaveLength(20)
    expect(side.localCandidates[0]).toEqual({type: 'host', protocol: 'udp', address: '10.0.0.0', port: 0})
    expect(side.events).toEqual([])
  })

  it('fast-check: any value reads as undefined or a well-typed side, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue()), (x) => {
        const s = readSide(x)
        if (s === undefined) return
        expect(['offerer', 'answerer']).toContain(s.role)
        expect(s.dtlsRole === null || s.dtlsRole === 'client' || s.dtlsRole === 'server').toBe(true)
        expect(s.localCandidates.length).toBeLessThanOrEqual(20)
        expect(typeof s.remoteCandidates).toBe('number')
      }),
      {numRuns: 500},
    )
  })
})

it('the protocol module imports nothing from Node or node-datachannel (the browser page bundles it)', () => {
  const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), 'utf8')
  const imports = (src: string) => [...src.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1])
  expect(imports(read('../../../src/lib/webrtc/worker/link-protocol.ts'))).toEqual(['../../errors.js'])
  expect(imports(read('../../../src/lib/errors.ts'))).toEqual([])
})
