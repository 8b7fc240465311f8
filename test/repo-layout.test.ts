// Layout rules a new maintainer relies on: one job per file, and comments that a clone can follow.
// 1. No source file outside generated code is over 400 lines unless its header (the first 40
//    lines) says why, with the words "over 400 lines" and a reason.
// 2. No source, test or benchmark comment cites documents that are not in the repository (the
//    project's planning notes: SPEC sections, research notes, anchor notes, lab notes).
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const MAX_LINES = 400

function tsFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...tsFiles(p))
    else if (/\.(ts|tsx|mjs)$/.test(name)) out.push(p)
  }
  return out
}

/** Citations of documents outside the repository, e.g. `SPEC §3`, `research/reliability.md`, `webrtc-lab.md §1.2`. */
export function outsideCitations(text: string): string[] {
  const found: string[] = []
  for (const m of text.matchAll(/\bSPEC(?:\.md)?\s*§\s*\d+|\bresearch\/[\w.-]+\.md|\banchors-\d{4}-\d{2}\.md|\bwebrtc-lab\.md|\bSTYLE\.md|\bDEVELOPERS\.md/g)) found.push(m[0])
  return found
}

describe('repository layout', () => {
  it('the citation scanner finds what it should and nothing else', () => {
    expect(outsideCitations('see SPEC §3 and research/reliability.md §2.1')).toEqual(['SPEC §3', 'research/reliability.md'])
    expect(outsideCitations('(webrtc-lab.md §1.2) anchors-2026-12.md')).toEqual(['webrtc-lab.md', 'anchors-2026-12.md'])
    expect(outsideCitations('SPECIAL_USE = /test/; EIP-1459 §3; RFC 5780 §4.3')).toEqual([])
  })

  it(`no source file is over ${MAX_LINES} lines without saying why in its header`, () => {
    const long = tsFiles(join(ROOT, 'src'))
      .map((file) => ({file: relative(ROOT, file), lines: readFileSync(file, 'utf8').split('\n')}))
      .filter(({lines}) => lines.length > MAX_LINES && !/over 400 lines/i.test(lines.slice(0, 40).join('\n')))
      .map(({file, lines}) => `${file}: ${lines.length} lines`)
    expect(long).toEqual([])
  })

  it('no comment cites a document that is not in the repository', () => {
    const cited: string[] = []
    for (const dir of ['src', 'test', 'bench', 'scripts']) {
      for (const file of tsFiles(join(ROOT, dir))) {
        if (file === fileURLToPath(import.meta.url)) continue
        for (const c of outsideCitations(readFileSync(file, 'utf8'))) cited.push(`${relative(ROOT, file)}: ${c}`)
      }
    }
    expect(cited).toEqual([])
  })
})
