// The repository stands alone: a clone with nothing beside it runs its tests, benchmarks and CI.
// This scans every file under test/, bench/ and .ci/ (and the vitest config) for paths that leave
// the repository: the research checkout's `../shared`, relative paths that climb above the root,
// and absolute paths into a workspace (the repo's parent folder, /work, /home, /root, …).
// System locations (/usr/bin/knotd, /proc/…, /tmp/…) and multiaddrs are not filesystem escapes.
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve, sep} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SCANNED = ['test', 'bench', '.ci', 'vitest.config.ts']
// Vendored vectors are upstream data (their `_source` fields name upstream paths, not ours).
// This file is left out too: its scanner cases spell out the very paths it refuses.
const NOT_SCANNED = [join('test', 'vectors'), join('test', 'repo-standalone.test.ts')]

const WORKSPACE_ROOTS = ['/work/', '/home/', '/root/', '/mnt/', '/srv/', '/Users/']

export interface Escape {
  line: number
  text: string
  why: string
}

/** Places in one file's text that name a path outside the repository (file is repo-relative). */
export function findEscapes(file: string, text: string, repoRoot: string): Escape[] {
  const escapes: Escape[] = []
  const parent = dirname(repoRoot) + sep
  const fileDir = dirname(join(repoRoot, file))
  const lines = text.split('\n')
  lines.forEach((lineText, i) => {
    const add = (why: string) => escapes.push({line: i + 1, text: lineText.trim(), why})
    if (/(^|[^\w.])\.\.\/+shared\b|(^|['"`\s(])shared\/vectors\//.test(lineText)) add('names the research checkout ../shared')
    // Relative paths in string literals: resolved from the file's folder (as new URL(…, import.meta.url)
    // or path.join(__dirname, …) would) they must stay inside the root.
    for (const m of lineText.matchAll(/['"`]((?:\.\.\/)+[^'"`\s$]*)/g)) {
      const target = resolve(fileDir, m[1])
      const rel = relative(repoRoot, target)
      if (rel.startsWith('..') || rel.startsWith(sep)) add(`relative path ${m[1]} leaves the repository`)
    }
    for (const m of lineText.matchAll(/['"`=\s(](\/[\w.-][^'"`\s)]*)/g)) {
      const p = m[1]
      if (p.startsWith(repoRoot + '/') || p === repoRoot) continue
      if (p.startsWith(parent) || WORKSPACE_ROOTS.some((root) => p.startsWith(root))) add(`absolute path ${p} outside the repository`)
    }
  })
  return escapes
}

function listFiles(rel: string): string[] {
  const abs = join(REPO_ROOT, rel)
  if (NOT_SCANNED.includes(rel)) return []
  let st
  try {
    st = statSync(abs)
  } catch {
    return []
  }
  if (st.isFile()) return [rel]
  return readdirSync(abs).flatMap((name) => (name === 'node_modules' ? [] : listFiles(join(rel, name))))
}

describe('the repository stands alone', () => {
  it('no test, benchmark or CI file names a path outside the repository', () => {
    const files = SCANNED.flatMap(listFiles)
    // The scan must see the suite itself, or it proves nothing.
    expect(files.length).toBeGreaterThan(50)
    expect(files).toContain(join('.ci', 'run'))
    const found = files.flatMap((file) => findEscapes(file, readFileSync(join(REPO_ROOT, file), 'utf8'), REPO_ROOT).map((e) => `${file}:${e.line}: ${e.why}: ${e.text}`))
    expect(found).toEqual([])
  })

  it('the vendored vectors the tests load are all present', () => {
    const names = new Set<string>()
    for (const file of SCANNED.flatMap(listFiles)) {
      for (const m of readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(/loadVector\('([\w.-]+\.json)'\)/g)) names.add(m[1])
    }
    expect(names.size).toBeGreaterThan(10)
    const vendored = new Set(readdirSync(join(REPO_ROOT, 'test', 'vectors')))
    expect([...names].filter((n) => !vendored.has(n))).toEqual([])
    const readme = readFileSync(join(REPO_ROOT, 'test', 'vectors', 'README.md'), 'utf8')
    // Every vendored file has a row naming its source.
    expect([...vendored].filter((n) => n.endsWith('.json') && !readme.includes('`' + n + '`'))).toEqual([])
  })

  describe('the scanner', () => {
    const root = '/work/main'
    const scan = (file: string, text: string) => findEscapes(file, text, root).map((e) => e.why)

    it('flags the research checkout, climbing relative paths and workspace absolute paths', () => {
      expect(scan('test/lib/x.test.ts', "readFileSync(new URL('../../../../shared/vectors/a.json', import.meta.url))")).toHaveLength(2)
      expect(scan('test/lib/x.test.ts', "const p = '../../../other/file.json'")).toEqual(['relative path ../../../other/file.json leaves the repository'])
      expect(scan('bench/run.ts', "read('/work/shared/vectors/x.json')")).toEqual(['absolute path /work/shared/vectors/x.json outside the repository'])
      expect(scan('.ci/run', 'cp /home/me/keys.json .')).toEqual(['absolute path /home/me/keys.json outside the repository'])
      expect(scan('.ci/run', 'cat ../shared/SPEC.md')).toEqual(['names the research checkout ../shared'])
    })

    it('lets in-repo relative paths, system paths and multiaddrs through', () => {
      expect(scan('test/lib/dns/x.test.ts', "import {a} from '../../../src/lib/dns/index.js'")).toEqual([])
      expect(scan('test/lib/dns/x.test.ts', "new URL('../../vectors/a.json', import.meta.url)")).toEqual([])
      expect(scan('test/helpers/knot.ts', "const bins = ['/usr/sbin/knotd', '/proc/net/snmp', '/tmp/x.sock']")).toEqual([])
      expect(scan('test/lib/x.test.ts', "multiaddr('/ip4/127.0.0.1/tcp/0/ws')")).toEqual([])
      expect(scan('test/lib/x.test.ts', "const f = '/work/main/test/vectors/a.json'")).toEqual([])
    })
  })
})
