import {generateKeyPair} from '@libp2p/crypto/keys'
import {peerIdFromPrivateKey} from '@libp2p/peer-id'
import {RecordEnvelope} from '@libp2p/peer-record'
import {multiaddr} from '@multiformats/multiaddr'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {BadInputError, CheckFailedError, ProtocolError, isWakuDiscError} from '../../../src/lib/errors.js'
import {ProtoWriter} from '../../../src/lib/libp2p/protobuf.js'
import {
  LEGACY_WAKU_PEER_RECORD_PAYLOAD_TYPE,
  RENDEZVOUS_MESSAGE_TYPE,
  RENDEZVOUS_STATUS,
  WAKU_PEER_RECORD_DOMAIN,
  decodeCookie,
  decodeRendezvousMessage,
  decodeWakuPeerRecord,
  encodeCookie,
  encodeDiscover,
  encodeDiscoverResponse,
  encodeRegister,
  encodeRegisterResponse,
  encodeRendezvousMessage,
  encodeUnregister,
  encodeWakuPeerRecord,
  mixNamespace,
  openWakuPeerRecord,
  rendezvousMessageTypeName,
  rendezvousStatusName,
  sealWakuPeerRecord,
  shardNamespace,
  wakuPeerRecordEnvelopeRecord,
  wakuPeerRecordToJson,
  type RendezvousMessage,
} from '../../../src/lib/rendezvous/index.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'))
const ascii = (s: string) => Buffer.from(s, 'ascii').toString('hex')

describe('rendezvous message codec', () => {
  it('lays out a Discover byte for byte as the spec describes (type 1, discover 5 → ns 1, limit 2, cookie 3)', () => {
    const expected =
      '0803' + // type = DISCOVER (3)
      '2a10' + // discover (field 5, length-delimited), 16 bytes
      '0a08' + ascii('rs/1/mix') + // ns (field 1)
      '100c' + // limit (field 2) = 12
      '1a020805' // cookie (field 3) = 2 bytes
    const encoded = encodeDiscover({ns: 'rs/1/mix', limit: 12n, cookie: bytes('0805')})
    expect(hex(encoded)).toBe(expected)
    expect(decodeRendezvousMessage(bytes(expected))).toEqual({type: 3, discover: {ns: 'rs/1/mix', limit: 12n, cookie: bytes('0805')}})
    // Without optional fields only the type and an empty body remain.
    expect(hex(encodeDiscover({}))).toBe('08032a00')
  })

  it('round-trips every message type, writing the fields nim-libp2p declares required', () => {
    const messages: RendezvousMessage[] = [
      {type: RENDEZVOUS_MESSAGE_TYPE.REGISTER, register: {ns: 'rs/1/mix', signedPeerRecord: bytes('0a0102'), ttl: 60n}},
      {type: RENDEZVOUS_MESSAGE_TYPE.REGISTER, register: {ns: 'rs/1/0', signedPeerRecord: bytes('ff')}},
      {type: RENDEZVOUS_MESSAGE_TYPE.REGISTER_RESPONSE, registerResponse: {status: RENDEZVOUS_STATUS.OK, ttl: 60n}},
      {type: RENDEZVOUS_MESSAGE_TYPE.REGISTER_RESPONSE, registerResponse: {status: RENDEZVOUS_STATUS.E_INVALID_TTL, statusText: 'ttl 5 s is outside 60–259200 s'}},
      {type: RENDEZVOUS_MESSAGE_TYPE.UNREGISTER, unregister: {ns: 'rs/1/mix'}},
      {type: RENDEZVOUS_MESSAGE_TYPE.DISCOVER, discover: {ns: 'rs/16/32', limit: 1000n}},
      {
        type: RENDEZVOUS_MESSAGE_TYPE.DISCOVER_RESPONSE,
        discoverResponse: {
          registrations: [
            {ns: 'rs/1/mix', signedPeerRecord: bytes('01'), ttl: 59n},
            {ns: 'rs/1/mix', signedPeerRecord: bytes('0203'), ttl: 1n},
          ],
          cookie: bytes('0802'),
          status: RENDEZVOUS_STATUS.OK,
        },
      },
      {type: RENDEZVOUS_MESSAGE_TYPE.DISCOVER_RESPONSE, discoverResponse: {registrations: [], status: RENDEZVOUS_STATUS.E_INVALID_COOKIE, statusText: 'unreadable cookie'}},
    ]
    for (const m of messages) expect(decodeRendezvousMessage(encodeRendezvousMessage(m))).toEqual(m)
    // The helpers write the same bytes as the generic encoder.
    expect(encodeRegister(messages[0]!.register!)).toEqual(encodeRendezvousMessage(messages[0]!))
    expect(encodeRegisterResponse(messages[2]!.registerResponse!)).toEqual(encodeRendezvousMessage(messages[2]!))
    expect(encodeUnregister({ns: 'rs/1/mix'})).toEqual(encodeRendezvousMessage(messages[4]!))
    expect(encodeDiscoverResponse(messages[6]!.discoverResponse!)).toEqual(encodeRendezvousMessage(messages[6]!))
    // Status OK (0) is written although it is the default value: nim-libp2p requires the field.
    expect(hex(encodeRegisterResponse({status: 0}))).toBe('08011a020800')
    expect(hex(encodeDiscoverResponse({registrations: [], status: 0}))).toBe('0804' + '32021800')
  })

  it('reads proto3 encodings that leave zero values out (type REGISTER, status OK)', () => {
    const register = new ProtoWriter().bytes(2, new ProtoWriter().string(1, 'x').bytes(2, bytes('aa')).finish()).finish()
    expect(decodeRendezvousMessage(register)).toEqual({type: 0, register: {ns: 'x', signedPeerRecord: bytes('aa')}})
    const emptyResponse = new ProtoWriter().varint(1, 4).bytes(6, new Uint8Array(0)).finish()
    expect(decodeRendezvousMessage(emptyResponse).discoverResponse).toEqual({registrations: [], status: 0})
  })

  it('skips unknown fields at every level, including Unregister\'s deprecated id', () => {
    const unregister = new ProtoWriter().string(1, 'rs/1/mix').bytes(2, bytes('0102')).varint(9, 7).finish()
    const m = new ProtoWriter().varint(1, 2).bytes(4, unregister).varint(15, 1).bytes(99, bytes('ff')).finish()
    expect(decodeRendezvousMessage(m)).toEqual({type: 2, unregister: {ns: 'rs/1/mix'}})
  })

  it('names statuses and message types', () => {
    expect(rendezvousStatusName(0)).toBe('OK')
    expect(rendezvousStatusName(101)).toBe('E_INVALID_SIGNED_PEER_RECORD')
    expect(rendezvousStatusName(200)).toBe('E_NOT_AUTHORIZED')
    expect(rendezvousStatusName(400)).toBe('E_UNAVAILABLE')
    expect(rendezvousStatusName(418)).toBeUndefined()
    expect(Object.values(RENDEZVOUS_STATUS).every((c) => rendezvousStatusName(c) !== undefined)).toBe(true)
    expect(rendezvousMessageTypeName(4)).toBe('DISCOVER_RESPONSE')
    expect(rendezvousMessageTypeName(5)).toBeUndefined()
  })

  it('rejects malformed bytes with a ProtocolError naming the offset in the whole message', () => {
    const cases: Array<[string, RegExp]> = [
      ['0a00', /type \(field 1\) must be a varint at byte 0/],
      ['0803' + '2a03' + '0a0541', /field 1 claims 5 bytes but only 1 remain at byte 4/],
      ['0803' + '2a02' + '0a01', /field 1 claims 1 bytes but only 0 remain at byte 4/],
      ['0803' + '2a03' + '0a01ff', /Discover\.ns \(field 1\) is not valid UTF-8 at byte 4/],
      ['0804' + '3204' + '0a02' + '0a05', /field 1 claims 5 bytes but only 0 remain at byte 6/],
      ['0804' + '3205' + '0a03' + '0a01c3', /Register\.ns \(field 1\) is not valid UTF-8 at byte 6/],
      ['08ffffffff0f', /outside the int32 enum range at byte 0/],
      ['0804' + '3203' + '1a0100', /status \(field 3\) must be a varint at byte 4/],
      ['1001', /register \(field 2\) must be length-delimited at byte 0/],
      ['08', /truncated varint at byte 1/],
      ['0f', /unsupported wire type 7/],
    ]
    for (const [h, message] of cases) {
      let caught: unknown
      try {
        decodeRendezvousMessage(bytes(h))
      } catch (err) {
        caught = err
      }
      expect(caught, h).toBeInstanceOf(ProtocolError)
      expect((caught as ProtocolError).code, h).toBe('BAD_PROTOBUF')
      expect((caught as Error).message, h).toMatch(message)
    }
    expect(() => decodeRendezvousMessage(bytes('0a00'), 'rendezvous discover response')).toThrow(/^rendezvous discover response: malformed protobuf/)
  })

  it('never throws anything but ProtocolError on random bytes, and round-trips random messages (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 200}), (input) => {
        try {
          decodeRendezvousMessage(input)
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
        }
      }),
      {numRuns: 3000},
    )
    const register = fc.record({ns: fc.string({maxLength: 40}), signedPeerRecord: fc.uint8Array({maxLength: 60}), ttl: fc.option(fc.bigInt({min: 0n, max: 2n ** 64n - 1n}), {nil: undefined})}, {requiredKeys: ['ns', 'signedPeerRecord']})
    const status = fc.constantFrom(...Object.values(RENDEZVOUS_STATUS))
    const message = fc.oneof(
      register.map((r): RendezvousMessage => ({type: 0, register: r})),
      fc.record({status, statusText: fc.option(fc.string(), {nil: undefined}), ttl: fc.option(fc.bigInt({min: 0n, max: 2n ** 64n - 1n}), {nil: undefined})}, {requiredKeys: ['status']}).map((r): RendezvousMessage => ({type: 1, registerResponse: r})),
      fc.string().map((ns): RendezvousMessage => ({type: 2, unregister: {ns}})),
      fc.record({ns: fc.string(), limit: fc.bigInt({min: 0n, max: 2n ** 64n - 1n}), cookie: fc.uint8Array({maxLength: 20})}, {requiredKeys: []}).map((d): RendezvousMessage => ({type: 3, discover: d})),
      fc.record({registrations: fc.array(register, {maxLength: 4}), cookie: fc.uint8Array({maxLength: 20}), status, statusText: fc.string()}, {requiredKeys: ['registrations', 'status']}).map((d): RendezvousMessage => ({type: 4, discoverResponse: d})),
    )
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeRendezvousMessage(encodeRendezvousMessage(m))).toEqual(m)
      }),
      {numRuns: 1000},
    )
  })

  it('builds the Waku namespaces of both spec generations', () => {
    expect(mixNamespace(1)).toBe('rs/1/mix')
    expect(shardNamespace(16, 32)).toBe('rs/16/32')
    expect(() => mixNamespace(70_000)).toThrow(BadInputError)
    expect(() => shardNamespace(1, -1)).toThrow(BadInputError)
  })

  it('encodes and decodes nim-libp2p\'s cookie and refuses foreign bytes', () => {
    expect(hex(encodeCookie({offset: 3n, ns: 'a'}))).toBe('0803120161')
    expect(decodeCookie(bytes('0803120161'))).toEqual({offset: 3n, ns: 'a'})
    expect(decodeCookie(bytes('0803'))).toEqual({offset: 3n})
    for (const h of ['', 'ff', '1201ff', '0a00', '120161']) expect(decodeCookie(bytes(h)), h).toBeUndefined()
  })
})

describe('WakuPeerRecord', () => {
  it('encodes the way nwaku does: raw peer-id multihash, varint seqNo, binary multiaddrs, hex mix key text', async () => {
    const key = await generateKeyPair('secp256k1')
    const peerId = peerIdFromPrivateKey(key)
    const mh = peerId.toMultihash().bytes
    const ma = multiaddr('/ip4/127.0.0.1/tcp/60000').bytes
    const mixKey = '0f'.repeat(32)
    const expected =
      '0a' + mh.length.toString(16).padStart(2, '0') + hex(mh) + // peerId (field 1): 39 raw bytes for secp256k1
      '10' + 'e807' + // seqNo (field 2) = 1000
      '1a' + ma.length.toString(16).padStart(2, '0') + hex(ma) + // addresses (field 3)
      '2240' + ascii(mixKey) // mixKey (field 4): 64 characters
    const encoded = encodeWakuPeerRecord({peerId: peerId.toString(), seqNo: 1000n, addresses: ['/ip4/127.0.0.1/tcp/60000'], mixKey})
    expect(hex(encoded)).toBe(expected)
    expect(mh.length).toBe(39)
    expect(decodeWakuPeerRecord(encoded)).toEqual({
      peerId: peerId.toString(),
      seqNo: 1000n,
      addresses: ['/ip4/127.0.0.1/tcp/60000'],
      mixKey,
      mixKeyEncoding: 'hex-string',
      peerIdEncoding: 'bytes',
      textAddresses: 0,
    })
  })

  it('also reads the spec text\'s form: peer id and multiaddrs as strings, the mix key as raw bytes', async () => {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const raw = Uint8Array.from({length: 32}, (_, i) => 0xe0 + (i % 16)) // not UTF-8: read as raw key bytes
    const specForm = new ProtoWriter().string(1, peerId).varint(2, 7).string(3, '/dns4/node.example/tcp/443/wss').string(3, '/ip4/10.0.0.1/tcp/1').bytes(4, raw).finish()
    const r = decodeWakuPeerRecord(specForm)
    expect(r).toMatchObject({peerId, seqNo: 7n, addresses: ['/dns4/node.example/tcp/443/wss', '/ip4/10.0.0.1/tcp/1'], peerIdEncoding: 'string', textAddresses: 2, mixKeyEncoding: 'bytes', mixKey: hex(raw)})
    // A base32 CID form of the peer id reads too.
    const cid = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const cidText = cid.toCID().toString()
    expect(cidText.startsWith('b')).toBe(true)
    expect(decodeWakuPeerRecord(new ProtoWriter().string(1, cidText).bytes(3, multiaddr('/ip4/1.2.3.4/tcp/1').bytes).finish()).peerId).toBe(cid.toString())
  })

  it('treats seqNo and the mix key as optional but peer id and addresses as required (like nwaku)', async () => {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('secp256k1'))
    const ma = multiaddr('/ip4/1.2.3.4/tcp/1').bytes
    const minimal = decodeWakuPeerRecord(new ProtoWriter().bytes(1, peerId.toMultihash().bytes).bytes(3, ma).bytes(4, new Uint8Array(0)).finish())
    expect(minimal.seqNo).toBe(0n)
    expect(minimal.mixKey).toBeUndefined()
    expect(() => decodeWakuPeerRecord(new ProtoWriter().bytes(3, ma).finish())).toThrow(/no peerId/)
    expect(() => decodeWakuPeerRecord(new ProtoWriter().bytes(1, peerId.toMultihash().bytes).finish())).toThrow(/no addresses/)
    expect(() => encodeWakuPeerRecord({peerId: peerId.toString(), addresses: []})).toThrow(BadInputError)
    expect(() => encodeWakuPeerRecord({peerId: peerId.toString(), addresses: ['/ip4/1.2.3.4/tcp/1'], mixKey: 'xyz'})).toThrow(/mix key must be/)
    expect(() => encodeWakuPeerRecord({peerId: 'not-a-peer-id', addresses: ['/ip4/1.2.3.4/tcp/1']})).toThrow(BadInputError)
    expect(() => encodeWakuPeerRecord({peerId: peerId.toString(), addresses: ['/ip4/1.2.3.4/tcp/1'], seqNo: 1.5})).toThrow(/seqNo must be an integer/)
    expect(() => encodeWakuPeerRecord({peerId: peerId.toString(), addresses: ['/ip4/1.2.3.4/tcp/1'], seqNo: -1n})).toThrow(/uint64/)
    expect(() => encodeWakuPeerRecord({peerId: peerId.toString(), addresses: ['not a multiaddr']})).toThrow(BadInputError)
  })

  it('rejects malformed payloads with ProtocolError BAD_PEER_RECORD and the offset', async () => {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('secp256k1'))
    const mh = peerId.toMultihash().bytes
    const cases: Array<[Uint8Array, RegExp]> = [
      [bytes('0801'), /peerId \(field 1\) must be length-delimited at byte 0/],
      [bytes('0a03414243'), /neither peer-id multihash bytes nor peer-id text \(3 bytes\) at byte 0/],
      [new ProtoWriter().bytes(1, mh).bytes(2, bytes('01')).finish(), /seqNo \(field 2\) must be a varint at byte 41/],
      [new ProtoWriter().bytes(1, mh).bytes(3, bytes('04ff')).finish(), /address 0 \(field 3\) is not a valid multiaddr at byte 41/],
      [new ProtoWriter().bytes(1, mh).string(3, '/ip4/999.1.1.1/tcp/1').finish(), /address 0 \(field 3\) is not a valid multiaddr/],
      [new ProtoWriter().bytes(1, mh).bytes(3, Uint8Array.from([...multiaddr('/ip4/1.2.3.4/tcp/1').bytes, 0x06])).finish(), /address 0/],
      [new ProtoWriter().bytes(1, mh).varint(4, 1).finish(), /mixKey \(field 4\) must be length-delimited/],
      [bytes('0a05'), /claims 5 bytes/],
    ]
    for (const [input, message] of cases) {
      let caught: unknown
      try {
        decodeWakuPeerRecord(input)
      } catch (err) {
        caught = err
      }
      expect(caught, hex(input)).toBeInstanceOf(ProtocolError)
      expect((caught as ProtocolError).code).toBe('BAD_PEER_RECORD')
      expect((caught as Error).message, hex(input)).toMatch(message)
    }
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 120}), (input) => {
        try {
          decodeWakuPeerRecord(input)
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
        }
      }),
      {numRuns: 2000},
    )
  })

  it('seals into a libp2p envelope with nwaku\'s domain and payload type, and opens it again', async () => {
    const key = await generateKeyPair('secp256k1')
    const sealed = await sealWakuPeerRecord({addresses: ['/ip4/127.0.0.1/tcp/60000/ws'], mixKey: 'ab'.repeat(32), seqNo: 1_700_000_000n}, key)
    // Envelope fields: public_key 1, payload_type 2 (three raw bytes 30 00 00), payload 3, signature 5.
    const envelope = RecordEnvelope.createFromProtobuf(sealed)
    expect(hex(envelope.payloadType)).toBe('300000')
    expect(hex(sealed)).toContain('1203300000')
    expect(await envelope.validate(WAKU_PEER_RECORD_DOMAIN)).toBe(true)
    expect(await envelope.validate('libp2p-peer-record')).toBe(false)
    const opened = await openWakuPeerRecord(sealed)
    expect(opened).toMatchObject({peerId: peerIdFromPrivateKey(key).toString(), seqNo: 1_700_000_000n, addresses: ['/ip4/127.0.0.1/tcp/60000/ws'], mixKey: 'ab'.repeat(32), payloadType: '300000', legacyPayloadType: false, publicKey: {type: 'secp256k1'}})
    expect(wakuPeerRecordToJson(opened).seqNo).toBe('1700000000')
    expect(JSON.parse(JSON.stringify(wakuPeerRecordToJson(opened))).seqNo).toBe('1700000000')
    // The default seqNo is now, in Unix seconds.
    const now = BigInt(Math.floor(Date.now() / 1000))
    const fresh = await openWakuPeerRecord(await sealWakuPeerRecord({addresses: ['/ip4/127.0.0.1/tcp/1']}, key))
    expect(fresh.seqNo >= now - 5n && fresh.seqNo <= now + 5n).toBe(true)
    // Ed25519 keys work the same way.
    const ed = await generateKeyPair('Ed25519')
    expect((await openWakuPeerRecord(await sealWakuPeerRecord({addresses: ['/ip4/127.0.0.1/tcp/1']}, ed))).peerId).toBe(peerIdFromPrivateKey(ed).toString())
    await expect(sealWakuPeerRecord({peerId: peerIdFromPrivateKey(ed).toString(), addresses: ['/ip4/127.0.0.1/tcp/1']}, key)).rejects.toMatchObject({code: 'PEER_ID_NOT_SIGNER'})
  })

  it('refuses tampered, foreign-signed, wrong-type and unreadable envelopes with typed errors', async () => {
    const key = await generateKeyPair('secp256k1')
    const other = await generateKeyPair('secp256k1')
    const sealed = await sealWakuPeerRecord({addresses: ['/ip4/127.0.0.1/tcp/60000']}, key)
    const tampered = Uint8Array.from(sealed)
    tampered[tampered.length - 5] ^= 0x01
    await expect(openWakuPeerRecord(tampered)).rejects.toBeInstanceOf(CheckFailedError)
    const payloadFlip = Uint8Array.from(sealed)
    payloadFlip[60] ^= 0x01 // inside the payload: the signature no longer covers it
    await expect(openWakuPeerRecord(payloadFlip)).rejects.toMatchObject({code: 'BAD_RECORD_SIGNATURE'})
    // A valid signature by one key over a record naming another peer.
    const foreignPayload = encodeWakuPeerRecord({peerId: peerIdFromPrivateKey(other).toString(), addresses: ['/ip4/127.0.0.1/tcp/1']})
    const foreign = (await RecordEnvelope.seal(wakuPeerRecordEnvelopeRecord(foreignPayload), key)).marshal()
    await expect(openWakuPeerRecord(foreign)).rejects.toMatchObject({name: 'CheckFailedError', code: 'RECORD_KEY_MISMATCH'})
    // nwaku's first payload type (05 05): refused unless asked for.
    const payload = encodeWakuPeerRecord({peerId: peerIdFromPrivateKey(key).toString(), addresses: ['/ip4/127.0.0.1/tcp/1']})
    const legacy = (await RecordEnvelope.seal(wakuPeerRecordEnvelopeRecord(payload, LEGACY_WAKU_PEER_RECORD_PAYLOAD_TYPE), key)).marshal()
    await expect(openWakuPeerRecord(legacy)).rejects.toMatchObject({name: 'ProtocolError', code: 'WRONG_PAYLOAD_TYPE'})
    expect(await openWakuPeerRecord(legacy, {acceptLegacyPayloadType: true})).toMatchObject({legacyPayloadType: true, payloadType: '0505'})
    // The varint of 0x300000 (what the spec text could be read as) is not nwaku's type.
    const varintType = (await RecordEnvelope.seal(wakuPeerRecordEnvelopeRecord(payload, bytes('8080c001')), key)).marshal()
    await expect(openWakuPeerRecord(varintType)).rejects.toMatchObject({code: 'WRONG_PAYLOAD_TYPE'})
    // Signed under another domain.
    const otherDomain = (await RecordEnvelope.seal({...wakuPeerRecordEnvelopeRecord(payload), domain: 'libp2p-peer-record'}, key)).marshal()
    await expect(openWakuPeerRecord(otherDomain)).rejects.toMatchObject({code: 'BAD_RECORD_SIGNATURE'})
    // A valid envelope around a broken payload.
    const broken = (await RecordEnvelope.seal(wakuPeerRecordEnvelopeRecord(bytes('0a03414243')), key)).marshal()
    await expect(openWakuPeerRecord(broken)).rejects.toMatchObject({name: 'ProtocolError', code: 'BAD_PEER_RECORD'})
    for (const junk of [new Uint8Array(0), bytes('ff'), bytes('0a0100'), new Uint8Array(5000)]) {
      await expect(openWakuPeerRecord(junk), hex(junk.subarray(0, 4))).rejects.toMatchObject({name: 'ProtocolError', code: 'BAD_ENVELOPE'})
    }
  })

  it('never throws anything but our typed errors when opening random or mutated envelopes (property)', async () => {
    const key = await generateKeyPair('secp256k1')
    const sealed = await sealWakuPeerRecord({addresses: ['/ip4/127.0.0.1/tcp/60000'], mixKey: 'cd'.repeat(32)}, key)
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({maxLength: 300}),
          fc.tuple(fc.nat(sealed.length - 1), fc.integer({min: 1, max: 255})).map(([i, x]) => {
            const m = Uint8Array.from(sealed)
            m[i] ^= x
            return m
          }),
          fc.nat(sealed.length).map((n) => sealed.subarray(0, n)),
        ),
        async (input) => {
          try {
            await openWakuPeerRecord(input)
          } catch (err) {
            expect(isWakuDiscError(err), String(err)).toBe(true)
            expect(['ProtocolError', 'CheckFailedError']).toContain((err as Error).name)
          }
        },
      ),
      {numRuns: 400},
    )
  })
})
