/**
 * Public test vectors, vendored in test/vectors/ (test/vectors/README.md names each file's source).
 * Tests load them through here so that no test reads outside the repository.
 */
import {readFileSync} from 'node:fs'

const VECTORS_DIR = new URL('../vectors/', import.meta.url)

/** The parsed JSON of one vendored vector file, e.g. `loadVector('enr-eip778.json')`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadVector(name: string): any {
  if (!/^[\w.-]+\.json$/.test(name)) throw new Error(`not a vector file name: ${name}`)
  return JSON.parse(readFileSync(new URL(name, VECTORS_DIR), 'utf8'))
}
