import {readFileSync} from 'node:fs'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {LIBP2P_LIE_ROLES} from '../../../src/lib/testnet/index.js'
import {classifyDialError, DIAL_ERROR_CLASSES, DIAL_ERROR_MEANINGS, VISIT_FINDING_CODES} from '../../../src/lib/visit/index.js'

// Messages as js-libp2p 2.x, Node's net module and our own typed errors word them.
const CASES: Array<[string, string, string]> = [
  ['TIMEOUT', 'dial timed out after 2000 ms', 'timeout'],
  ['DIAL_FAILED', 'The operation was aborted due to timeout', 'timeout'],
  ['DIAL_FAILED', 'connect ECONNREFUSED 127.0.0.1:40123', 'connection-refused'],
  ['DIAL_FAILED', 'read ECONNRESET', 'reset'],
  ['DIAL_FAILED', 'connect EHOSTUNREACH 10.9.9.9:30303', 'no-route'],
  ['DIAL_FAILED', 'getaddrinfo ENOTFOUND node-01.example.org', 'dns-failed'],
  ['DIAL_FAILED', 'unable to verify the first certificate', 'tls-failed'],
  ['DIAL_FAILED', 'Payload identity key 16Uiu2HAm… does not match expected remote identity key 16Uiu2HAk…', 'peer-id-mismatch'],
  ['WRONG_PEER', 'the remote is another peer', 'peer-id-mismatch'],
  ['DIAL_FAILED', 'Error occurred during XX handshake: Invalid payload', 'noise-failed'],
  ['DIAL_FAILED', 'protocol selection failed: no muxer in common (yamux)', 'muxer-failed'],
  ['DIAL_FAILED', 'Message length too long - 1231231', 'negotiation-failed'],
  ['DIAL_FAILED', 'missing newline', 'negotiation-failed'],
  ['PROTOCOL_UNSUPPORTED', 'identify refused', 'protocol-not-supported'],
  ['DIAL_FAILED', 'something nobody expected', 'other'],
]

describe('classifyDialError', () => {
  it.each(CASES)('%s "%s" → %s', (code, message, expected) => {
    expect(classifyDialError({code, message})).toBe(expected)
  })

  it('every class has a meaning for the docs, and every answer is one of the classes, whatever the input', () => {
    expect(Object.keys(DIAL_ERROR_MEANINGS).sort()).toEqual([...DIAL_ERROR_CLASSES].sort())
    fc.assert(
      fc.property(fc.string(), fc.string({maxLength: 300}), (code, message) => {
        expect(DIAL_ERROR_CLASSES).toContain(classifyDialError({code, message}))
      }),
      {numRuns: 2000},
    )
  })
})

describe('the README documents every public code', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
  it.each([...DIAL_ERROR_CLASSES])('dial-error class %s', (cls) => {
    expect(readme).toContain(`| \`${cls}\` | ${DIAL_ERROR_MEANINGS[cls]} |`)
  })
  it.each([...VISIT_FINDING_CODES])('finding code %s', (code) => {
    expect(readme).toMatch(new RegExp(`\\| \`${code}\` \\| (info|warning|error) \\|`))
  })
  it.each(['truthful', ...LIBP2P_LIE_ROLES])('testnet listener role %s', (role) => {
    expect(readme).toContain(`| \`${role}\` |`)
  })
})
