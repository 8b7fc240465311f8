// createPublishTarget: what `dns-tree publish --to …` builds from its flags and the environment.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CloudflareTarget, Rfc2136Target, Route53Target, ZoneFileTarget, createPublishTarget, parseAwsCredentials} from '../../../src/lib/dns/publish/index.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waku-disc-targets-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('createPublishTarget', () => {
  it('builds each target from options and the injected environment', async () => {
    expect(await createPublishTarget({to: 'zone-file', zoneFile: join(dir, 'z.zone')})).toBeInstanceOf(ZoneFileTarget)
    const warnings: string[] = []
    expect(await createPublishTarget({to: 'rfc2136', server: '127.0.0.1:53', env: {}, onWarning: (w) => warnings.push(w)})).toBeInstanceOf(Rfc2136Target)
    expect(warnings).toEqual([expect.stringContaining('sending unsigned updates')])
    const signed: string[] = []
    await createPublishTarget({to: 'rfc2136', server: '127.0.0.1:53', env: {WAKU_DISC_TSIG_KEY: `hmac-sha256:k.:${Buffer.alloc(32, 1).toString('base64')}`}, onWarning: (w) => signed.push(w)})
    expect(signed).toEqual([])
    expect(await createPublishTarget({to: 'cloudflare', env: {CLOUDFLARE_API_TOKEN: 't0ken'}})).toBeInstanceOf(CloudflareTarget)
    expect(await createPublishTarget({to: 'route53', env: {AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK'}})).toBeInstanceOf(Route53Target)
  })

  it('missing settings and credentials are typed errors (exit 2 / 6) that never print a secret', async () => {
    await expect(createPublishTarget({to: 'zone-file'})).rejects.toMatchObject({code: 'DNS_NO_ZONE_FILE', exitCode: 2})
    await expect(createPublishTarget({to: 'rfc2136', env: {}})).rejects.toMatchObject({code: 'DNS_NO_SERVER', exitCode: 2})
    await expect(createPublishTarget({to: 'cloudflare', env: {}})).rejects.toMatchObject({code: 'DNS_NO_TOKEN', exitCode: 6})
    await expect(createPublishTarget({to: 'route53', env: {AWS_ACCESS_KEY_ID: 'AK'}})).rejects.toMatchObject({code: 'DNS_NO_TOKEN', exitCode: 6})
    await expect(createPublishTarget({to: 'cloudflare', tokenFile: join(dir, 'missing-token')})).rejects.toMatchObject({code: 'DNS_SECRET_FILE', exitCode: 6, message: expect.stringContaining('(ENOENT)')})
    const bad = join(dir, 'tsig.key')
    await writeFile(bad, 'not a key at all s3cr3t')
    const error = await createPublishTarget({to: 'rfc2136', server: '127.0.0.1:53', tsigKeyFile: bad}).catch((e: Error) => e)
    expect(error).toMatchObject({exitCode: expect.any(Number)})
    expect((error as Error).message).not.toContain('s3cr3t')
  })
})

describe('parseAwsCredentials', () => {
  it('reads the default profile, else the only one; session token optional', () => {
    const file = '[other]\naws_access_key_id = A1\naws_secret_access_key = S1\n\n[default]\naws_access_key_id=A2\naws_secret_access_key=S2\naws_session_token = T2\n'
    expect(parseAwsCredentials(file)).toEqual({accessKeyId: 'A2', secretAccessKey: 'S2', sessionToken: 'T2'})
    expect(parseAwsCredentials(file, 'other')).toEqual({accessKeyId: 'A1', secretAccessKey: 'S1', sessionToken: undefined})
    expect(parseAwsCredentials('[ci]\naws_access_key_id=A3\naws_secret_access_key=S3\n')).toMatchObject({accessKeyId: 'A3', secretAccessKey: 'S3'})
    expect(parseAwsCredentials('aws_access_key_id=A4\naws_secret_access_key=S4\n')).toMatchObject({accessKeyId: 'A4', secretAccessKey: 'S4'})
  })
})
