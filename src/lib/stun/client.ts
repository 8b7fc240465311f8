import {randomBytes} from 'node:crypto'
import dgram from 'node:dgram'
import {isIP} from 'node:net'

import {abortError, ProtocolError, UnreachableError} from '../errors.js'
import {
  StunAttr,
  changeRequestValue,
  decodeStunMessage,
  encodeStunMessage,
  readBindingResult,
  StunMethod,
  type BindingResult,
  type TransportAddress,
} from './message.js'

export interface BindingOptions {
  /** CHANGE-REQUEST flags (CHANGE_IP | CHANGE_PORT); 0 or undefined = none. */
  change?: number
  /** Retransmission schedule in ms between sends (RFC 8489 uses 500 ms doubling); total wait = sum + lastWaitMs. */
  retransmitMs?: number[]
  /** How long to wait after the last transmission. */
  lastWaitMs?: number
  signal?: AbortSignal
}

export interface BindingResponse extends BindingResult {
  /** Where the response came from (the server's actual source address). */
  from: TransportAddress
  /** Time from the first transmission to the response. */
  rttMs: number
  /** The address the response maps us to: XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS. */
  mappedAddress?: TransportAddress
}

export interface StunClientOptions {
  /** Local address to bind to (default: any of the server's family). */
  bindAddress?: string
  family?: 4 | 6
  /** Injected socket (tests); the client takes ownership and closes it. */
  socket?: dgram.Socket
}

interface Pending {
  resolve: (r: BindingResponse | null) => void
  reject: (e: Error) => void
  started: number
}

/**
 * A minimal RFC 5389 Binding client over one UDP socket, so that several requests (to several
 * servers, or with CHANGE-REQUEST) share the same local port: that is what makes mappings
 * comparable for the RFC 5780 tests. Responses are matched by transaction id only, since
 * CHANGE-REQUEST answers come from another address. Malformed answers reject the request with a
 * ProtocolError; stray or unmatched datagrams are counted and ignored.
 */
export class StunClient {
  readonly socket: dgram.Socket
  private readonly pending = new Map<string, Pending>()
  private bound?: Promise<void>
  private closed = false
  /** Datagrams that were not STUN or matched no request. */
  ignored = 0

  constructor(private readonly options: StunClientOptions = {}) {
    this.socket = options.socket ?? dgram.createSocket({type: options.family === 6 ? 'udp6' : 'udp4'})
    this.socket.on('message', (buf, rinfo) => this.onMessage(buf, rinfo))
    this.socket.on('error', () => {
      // ICMP errors (e.g. ECONNREFUSED on Linux) surface here; a request then simply times out.
    })
  }

  async bind(): Promise<TransportAddress> {
    if (!this.bound) {
      this.bound = new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(new UnreachableError('BIND_FAILED', `cannot bind a UDP socket: ${err.message}`, {cause: err}))
        this.socket.once('error', onError)
        this.socket.bind({port: 0, address: this.options.bindAddress}, () => {
          this.socket.off('error', onError)
          resolve()
        })
      })
    }
    await this.bound
    const a = this.socket.address()
    return {family: a.family === 'IPv6' ? 6 : 4, address: a.address, port: a.port}
  }

  private onMessage(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    if (buf.length < 20) {
      this.ignored++
      return
    }
    const tidKey = buf.subarray(8, 20).toString('hex')
    const p = this.pending.get(tidKey)
    if (!p) {
      this.ignored++
      return
    }
    this.pending.delete(tidKey)
    try {
      const msg = decodeStunMessage(buf)
      if (msg.method !== StunMethod.binding || (msg.cls !== 'success' && msg.cls !== 'error')) {
        throw new ProtocolError('STUN_UNEXPECTED', `expected a Binding response, got method 0x${msg.method.toString(16)} class ${msg.cls}`)
      }
      const r = readBindingResult(msg)
      if (msg.cls === 'error') {
        const e = r.error
        throw new ProtocolError('STUN_ERROR_RESPONSE', `STUN server ${rinfo.address}:${rinfo.port} answered with error ${e ? `${e.code} ${e.reason}` : '(no ERROR-CODE)'}`, {
          details: {code: e?.code},
        })
      }
      const mappedAddress = r.xorMapped ?? r.mapped
      if (!mappedAddress) throw new ProtocolError('STUN_NO_MAPPING', `STUN server ${rinfo.address}:${rinfo.port} answered without XOR-MAPPED-ADDRESS or MAPPED-ADDRESS`)
      p.resolve({
        ...r,
        from: {family: rinfo.family === 'IPv6' ? 6 : 4, address: rinfo.address, port: rinfo.port},
        rttMs: Number(process.hrtime.bigint() / 1000n) / 1000 - p.started,
        mappedAddress,
      })
    } catch (err) {
      p.reject(err as Error)
    }
  }

  /**
   * Sends a Binding request to `server` (an IP address) and resolves with the decoded response, or
   * null when nothing came back in time (the caller decides whether that is a failure: for the
   * RFC 5780 filtering tests silence is the answer).
   */
  async binding(server: TransportAddress, options: BindingOptions = {}): Promise<BindingResponse | null> {
    if (this.closed) throw new Error('StunClient is closed')
    if (!isIP(server.address)) throw new RangeError(`STUN server address must be an IP literal: ${server.address}`)
    await this.bind()
    const tid = randomBytes(12)
    const attributes = options.change ? [{type: StunAttr.CHANGE_REQUEST, value: changeRequestValue(options.change)}] : []
    const packet = encodeStunMessage({method: StunMethod.binding, cls: 'request', transactionId: tid, rfc5389: true, attributes}, {fingerprint: true})
    const schedule = options.retransmitMs ?? [500, 1000, 2000]
    const lastWait = options.lastWaitMs ?? 2000
    const key = Buffer.from(tid).toString('hex')
    const signal = options.signal
    return new Promise<BindingResponse | null>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = []
      const finish = () => {
        for (const t of timers) clearTimeout(t)
        this.pending.delete(key)
        signal?.removeEventListener('abort', onAbort)
      }
      const onAbort = () => {
        finish()
        reject(abortError(signal!, 'STUN request'))
      }
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, {once: true})
      this.pending.set(key, {
        started: Number(process.hrtime.bigint() / 1000n) / 1000,
        resolve: (r) => {
          finish()
          resolve(r)
        },
        reject: (e) => {
          finish()
          reject(e)
        },
      })
      const send = () => {
        if (this.closed) return
        this.socket.send(packet, server.port, server.address, () => {})
      }
      send()
      let at = 0
      for (const wait of schedule) {
        at += wait
        timers.push(setTimeout(send, at))
      }
      timers.push(
        setTimeout(() => {
          finish()
          resolve(null)
        }, at + lastWait),
      )
    })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const p of this.pending.values()) p.resolve(null)
    this.pending.clear()
    try {
      this.socket.close()
    } catch {
      // already closed
    }
  }
}
