/**
 * `npm run bench`: runs every bench/*.bench.ts in its own process, one after another (so one
 * benchmark's load never skews another's figures), and prints what each reports.
 * `npm run bench -- enr dns` runs only the named benchmarks.
 */
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const dir = fileURLToPath(new URL('.', import.meta.url))
const wanted = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort()

let failed = 0
for (const file of files) {
  process.stdout.write(`\n=== ${file.replace(/\.bench\.ts$/, '')} ===\n`)
  const started = Date.now()
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `${dir}/${file}`], {stdio: 'inherit'})
  if (r.status !== 0) {
    failed++
    process.stdout.write(`(${file} failed with exit ${r.status ?? r.signal})\n`)
  }
  process.stdout.write(`(${file}: ${((Date.now() - started) / 1000).toFixed(1)} s)\n`)
}
process.exitCode = failed ? 1 : 0
