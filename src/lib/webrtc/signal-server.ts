import type {IncomingMessage} from 'node:http'
import {isIP} from 'node:net'

import {WebSocketServer, type WebSocket} from 'ws'

import {UnreachableError} from '../errors.js'
import type {HostPort} from '../stun/endpoint.js'

export interface SignalServerOptions {
  listen: HostPort
  /** Largest relayed message (bytes). */
  maxMessageBytes?: number
  /** Close a connection that sends nothing for this long. */
  idleTimeoutMs?: number
  maxRooms?: number
  /** Messages a peer may send per minute before it is cut off. */
  maxMessagesPerMinute?: number
  /** Messages kept for a peer that has not joined yet. */
  maxQueued?: number
  onEvent?: (e: {kind: string; room?: string; detail?: string}) => void
}

export interface SignalServerInfo {
  url: string
  host: string
  port: number
}

export interface SignalServerStats {
  connections: number
  rooms: number
  relayed: number
  rejected: number
}

export interface SignalServer {
  info: SignalServerInfo
  stats: SignalServerStats
  close(): Promise<void>
}

export const ROOM_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/

/** Close codes (4000-4999 are application-defined). */
export const SignalClose = {badRoom: 4400, roomFull: 4409, idle: 4408, tooMany: 4429, tooBig: 1009, badMessage: 4415, serverFull: 4503} as const

interface Room {
  peers: WebSocket[]
  queue: string[]
}

/**
 * A WebSocket rendezvous for `webrtc listen|dial`: `ws://HOST:PORT/<room>`, two peers per room, and
 * nothing but relaying. It never parses the SDP it relays (the peers validate what they get); it
 * only enforces room names, message size, a rate limit and an idle timeout, and tells the peers
 * `{"type":"joined"}`, `{"type":"ready"}` (both present) and `{"type":"peer-left"}`.
 */
export async function startSignalServer(options: SignalServerOptions): Promise<SignalServer> {
  const maxBytes = options.maxMessageBytes ?? 64 * 1024
  const idleMs = options.idleTimeoutMs ?? 120_000
  const maxRooms = options.maxRooms ?? 1000
  const perMinute = options.maxMessagesPerMinute ?? 120
  const maxQueued = options.maxQueued ?? 16
  const emit = options.onEvent ?? (() => {})
  const rooms = new Map<string, Room>()
  const stats: SignalServerStats = {connections: 0, rooms: 0, relayed: 0, rejected: 0}
  const wss = new WebSocketServer({host: options.listen.host, port: options.listen.port, maxPayload: maxBytes, perMessageDeflate: false, clientTracking: true})
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve())
    wss.once('error', (err) => reject(new UnreachableError('BIND_FAILED', `cannot listen on ${options.listen.host}:${options.listen.port}: ${err.message}`, {cause: err})))
  })
  wss.on('error', () => {})
  const send = (ws: WebSocket, obj: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(obj))
  }

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    stats.connections++
    ws.on('error', () => {})
    const path = (req.url ?? '/').split('?')[0]!.replace(/^\/+/, '').replace(/\/+$/, '')
    let room: string
    try {
      room = decodeURIComponent(path)
    } catch {
      room = ''
    }
    if (!ROOM_PATTERN.test(room)) {
      stats.rejected++
      ws.close(SignalClose.badRoom, 'bad room name: use ws://HOST:PORT/<room> with 1-64 of [A-Za-z0-9_.-]')
      return
    }
    let r = rooms.get(room)
    if (!r) {
      if (rooms.size >= maxRooms) {
        stats.rejected++
        ws.close(SignalClose.serverFull, 'too many rooms')
        return
      }
      r = {peers: [], queue: []}
      rooms.set(room, r)
      stats.rooms++
    }
    if (r.peers.length >= 2) {
      stats.rejected++
      ws.close(SignalClose.roomFull, 'room full (2 peers)')
      return
    }
    const theRoom = r
    theRoom.peers.push(ws)
    emit({kind: 'join', room, detail: `${theRoom.peers.length}/2`})
    send(ws, {type: 'joined', room, peers: theRoom.peers.length})
    if (theRoom.peers.length === 2) {
      for (const p of theRoom.peers) send(p, {type: 'ready', room})
      for (const q of theRoom.queue.splice(0)) {
        ws.send(q)
        stats.relayed++
      }
    }
    let idle: NodeJS.Timeout
    const touch = () => {
      clearTimeout(idle)
      idle = setTimeout(() => ws.close(SignalClose.idle, `idle for ${Math.round(idleMs / 1000)} s`), idleMs)
    }
    touch()
    let windowStart = Date.now()
    let count = 0
    ws.on('message', (data, isBinary) => {
      touch()
      if (Date.now() - windowStart > 60_000) {
        windowStart = Date.now()
        count = 0
      }
      if (++count > perMinute) {
        ws.close(SignalClose.tooMany, 'too many messages')
        return
      }
      if (isBinary) {
        ws.close(SignalClose.badMessage, 'text messages only')
        return
      }
      const text = data.toString()
      const other = theRoom.peers.find((p) => p !== ws)
      if (other) {
        other.send(text)
        stats.relayed++
      } else if (theRoom.queue.length < maxQueued) theRoom.queue.push(text)
      else ws.close(SignalClose.tooMany, 'queue full: no peer in the room')
    })
    ws.on('close', () => {
      clearTimeout(idle)
      theRoom.peers = theRoom.peers.filter((p) => p !== ws)
      emit({kind: 'leave', room})
      if (theRoom.peers.length === 0) rooms.delete(room)
      else for (const p of theRoom.peers) send(p, {type: 'peer-left', room})
    })
  })

  const a = wss.address()
  const port = typeof a === 'object' && a ? a.port : options.listen.port
  const host = options.listen.host
  const url = `ws://${isIP(host) === 6 ? `[${host}]` : host}:${port}`
  return {
    info: {url, host, port},
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  }
}
