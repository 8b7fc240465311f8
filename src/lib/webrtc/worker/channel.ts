/** A node-datachannel DataChannel as the link protocol's channel and inbox (link-protocol.ts). */
import type {DataChannel} from 'node-datachannel'

import {LinkInbox, type LinkChannel} from './link-protocol.js'

export interface Link {
  channel: LinkChannel
  inbox: LinkInbox
}

/** Starts collecting the channel's messages at once (register before it can open). */
export function linkOf(dc: DataChannel): Link {
  const inbox = new LinkInbox()
  dc.onMessage((m) => {
    if (typeof m === 'string') inbox.text(m)
    else inbox.binary(Buffer.isBuffer(m) ? m.length : (m as ArrayBuffer).byteLength)
  })
  const channel: LinkChannel = {
    sendText: (text) => void dc.sendMessage(text),
    // false means "queued, not sent yet" (libdatachannel), not "dropped": never resend.
    sendBinary: (bytes) => void dc.sendMessageBinary(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
    bufferedAmount: () => dc.bufferedAmount(),
    setBufferedAmountLowThreshold: (bytes) => dc.setBufferedAmountLowThreshold(bytes),
    onBufferedAmountLow: (cb) => dc.onBufferedAmountLow(cb),
  }
  return {channel, inbox}
}
