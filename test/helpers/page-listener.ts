/** Starts `webrtc listen --page` as a user would (a separate process, optionally in a namespace). */
import {spawn, type ChildProcess} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const GUARD = fileURLToPath(new URL('./loopback-guard.ts', import.meta.url))

export interface PageListener {
  child: ChildProcess
  url: string
  done: Promise<{code: number | null; stdout: string; stderr: string; json: any}>
}

/** Starts `webrtc listen --page …` and resolves once it has printed `page: URL` on stderr. */
export function startPageListener(args: string[], options: {netns?: string; env?: Record<string, string>} = {}): Promise<PageListener> {
  const argv = [process.execPath, '--require', 'tsx/cjs', '--import', 'tsx', ...(options.netns ? [] : ['--import', GUARD]), 'bin/dev.js', 'webrtc', 'listen', '--page', ...args]
  const [cmd, ...rest] = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argv] : argv
  const child = spawn(cmd!, rest, {cwd: ROOT, env: {...process.env, NO_COLOR: '1', ...options.env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  const done = new Promise<{code: number | null; stdout: string; stderr: string; json: any}>((resolve) =>
    child.on('exit', (code) => {
      let json: any
      try {
        json = JSON.parse(stdout)
      } catch {
        json = undefined
      }
      resolve({code, stdout, stderr, json})
    }),
  )
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no page URL after 30 s: ${stderr}`)), 30_000)
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      const m = /^page: (\S+)$/m.exec(stderr)
      if (m) {
        clearTimeout(timer)
        resolve({child, url: m[1]!, done})
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`webrtc listen --page exited with ${code}: ${stderr}`))
    })
  })
}
