import {execFileSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, rmSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

/**
 * A copy of @chainsafe/discv5 11.0.0 with our patch reversed: the library exactly as
 * published. It lives under node_modules so its own imports resolve as the original's do.
 */
export function pristineDiscv5Dir(): string {
  const dir = `${ROOT}node_modules/.waku-disc-test-pristine-discv5`
  if (existsSync(`${dir}/.ready`)) return dir
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(dir, {recursive: true})
  cpSync(`${ROOT}node_modules/@chainsafe/discv5`, dir, {recursive: true})
  execFileSync('patch', ['-R', '-p4', '-s', '-d', dir, '-i', `${ROOT}patches/@chainsafe+discv5+11.0.0.patch`])
  cpSync(`${dir}/package.json`, `${dir}/.ready`)
  return dir
}

export function randomKey(): Uint8Array {
  const k = new Uint8Array(32)
  for (;;) {
    crypto.getRandomValues(k)
    if (k.some((b) => b !== 0) && k[0]! < 0xff) return k
  }
}
