import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

/**
 * A copy of @chainsafe/discv5 11.0.0 with our patch reversed: the library exactly as published.
 * It lives in the system's temporary folder (never in node_modules), in a folder named after the
 * patch's hash so runs share it, next to a `node_modules` link to the repo's, so its own imports
 * resolve as the original's do. Built in a scratch folder and renamed into place, so parallel test
 * files never see half a copy.
 */
export function pristineDiscv5Dir(): string {
  const patch = join(ROOT, 'patches/@chainsafe+discv5+11.0.0.patch')
  const hash = createHash('sha256').update(readFileSync(patch)).update(ROOT).digest('hex').slice(0, 16)
  const base = join(tmpdir(), `waku-disc-pristine-discv5-${hash}`)
  if (existsSync(join(base, 'discv5', 'package.json'))) return join(base, 'discv5')
  const scratch = mkdtempSync(`${base}.tmp-`)
  symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir')
  const dir = join(scratch, 'discv5')
  mkdirSync(dir)
  cpSync(join(ROOT, 'node_modules/@chainsafe/discv5'), dir, {recursive: true})
  execFileSync('patch', ['-R', '-p4', '-s', '-d', dir, '-i', patch])
  try {
    renameSync(scratch, base)
  } catch {
    // Another test file finished first: use its copy.
    rmSync(scratch, {recursive: true, force: true})
  }
  return join(base, 'discv5')
}

export function randomKey(): Uint8Array {
  const k = new Uint8Array(32)
  for (;;) {
    crypto.getRandomValues(k)
    if (k.some((b) => b !== 0) && k[0]! < 0xff) return k
  }
}
