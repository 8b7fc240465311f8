/**
 * Debian's Chromium, headless, driven by puppeteer-core over a pipe (no DevTools port), with every
 * background service and every name lookup switched off so it sends nothing but what the page does.
 * With `netns` it runs inside that network namespace (a wrapper script does `ip netns exec`; the
 * pipe's file descriptors survive the exec).
 */
import {chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import puppeteer, {type Browser} from 'puppeteer-core'

export const CHROMIUM = '/usr/bin/chromium'

export const QUIET_CHROMIUM_ARGS = [
  '--no-sandbox', // we run as root
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-default-apps',
  '--metrics-recording-only',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater',
  '--no-pings',
  // Debian's build still looks up accounts.google.com, update.googleapis.com and clients2.google.com
  // at startup (seen with strace): every name lookup fails inside Chromium, DNS included.
]

/** Every name lookup fails except the hosts the page is served from (the rule applies to IP literals too). */
const resolverRules = (allowHosts: string[]) => `--host-resolver-rules=MAP * ~NOTFOUND${allowHosts.map((h) => `, EXCLUDE ${h}`).join('')}`

export function chromiumMissingReason(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: install it with \`apt-get install chromium\``
}

export async function launchChromium(options: {netns?: string; args?: string[]; allowHosts?: string[]} = {}): Promise<Browser & {cleanup?: () => void}> {
  const missing = chromiumMissingReason()
  if (missing) throw new Error(missing)
  let executablePath = CHROMIUM
  let dir: string | undefined
  if (options.netns) {
    dir = mkdtempSync(join(tmpdir(), 'waku-disc-chromium-'))
    executablePath = join(dir, 'chromium-in-netns')
    writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${options.netns} ${CHROMIUM} "$@"\n`)
    chmodSync(executablePath, 0o755)
  }
  const browser = await puppeteer.launch({executablePath, headless: true, pipe: true, args: [...QUIET_CHROMIUM_ARGS, resolverRules(options.allowHosts ?? ['127.0.0.1']), ...(options.args ?? [])]})
  if (dir) browser.once('disconnected', () => rmSync(dir!, {recursive: true, force: true}))
  return browser
}

export const FIREFOX = '/usr/bin/firefox-esr'

export function firefoxMissingReason(): string | undefined {
  return existsSync(FIREFOX) ? undefined : `${FIREFOX} is missing: install it with \`apt-get install firefox-esr\``
}

/**
 * Debian's Firefox ESR, headless, over WebDriver BiDi. Name lookups are switched off altogether
 * (pages are opened by IP), as are the services that phone home; mDNS host-candidate hiding is
 * off too, so it sends no multicast outside a namespace.
 */
export async function launchFirefox(): Promise<Browser> {
  const missing = firefoxMissingReason()
  if (missing) throw new Error(missing)
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: {
      'network.dns.disabled': true,
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'network.prefetch-next': false,
      'app.update.enabled': false,
      'extensions.update.enabled': false,
      'browser.search.update': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'services.settings.server': 'data:,',
    },
  })
}
