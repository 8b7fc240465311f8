// runDoctor used as a library, without the options the CLI always fills in.
import {describe, expect, it} from 'vitest'

import {BadInputError} from '../../../src/lib/errors.js'
import {runDoctor} from '../../../src/lib/doctor/index.js'

// EIP-1459's example tree URL: well-formed, so only the missing resolver is wrong.
const URL = 'enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@nodes.example.org'

describe('runDoctor as a library', () => {
  it('an enrtree:// target without options.resolver is a typed bad-input error (exit 2), not a crash', async () => {
    const error = await runDoctor(URL).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BadInputError)
    expect(error).toMatchObject({code: 'DNS_NO_RESOLVER', exitCode: 2})
    await expect(runDoctor(URL, {treeSample: 0})).rejects.toMatchObject({code: 'DNS_NO_RESOLVER'})
  })

})
