import {table} from 'table'

import type {TestnetDescription} from '../lib/testnet/index.js'
import {colorsFor} from './colors.js'

/** What `testnet` prints once the network is up. */
export function renderTestnet(d: TestnetDescription, stream: NodeJS.WriteStream = process.stdout): string {
  const c = colorsFor(stream)
  const liars = Object.entries(d.liarRoles)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  const rows = [
    ['protocol id', d.protocolId],
    ['nodes', `${d.counts.nodes} on ${d.host} (${d.counts.live} live: ${d.counts.honest} honest${d.counts.liars ? `, ${d.counts.liars} liars` : ''}; ${d.counts.dead} dead)`],
    ['Waku nodes', `${d.counts.waku} (${d.counts.liveWaku} live)`],
    ['liars', liars || 'none'],
    ...(d.counts.libp2p > 0
      ? [['libp2p listeners', `${d.counts.libp2p} (${Object.entries(d.libp2pRoles).map(([k, v]) => `${k} ${v}`).join(', ')})`]]
      : []),
    ['started in', `${(d.startupMs / 1000).toFixed(1)} s${d.workers ? ` on ${d.workers} worker thread(s)` : ''}`],
  ]
  const v6 = d.nodes.filter((n) => n.family === 6).length
  const dual = d.nodes.filter((n) => n.family === 'dual').length
  if (v6 + dual > 0) rows.push(['address families', `${d.nodes.length - v6 - dual} IPv4 only, ${v6} IPv6 only (::1), ${dual} dual stack`])
  const src = d.sources
  if (src?.dns) rows.push(['DNS tree', `${src.dns.url} on ${src.dns.server}: ${src.dns.records} records, ${src.dns.stale} stale`])
  if (src?.px) rows.push(['peer exchange', `${src.px.multiaddr}: ${src.px.records} records, ${src.px.stale} stale`])
  if (src?.rendezvous) rows.push(['rendezvous', `${src.rendezvous.multiaddr}: ${src.rendezvous.registrations} registrations`])
  const sourceFlags = [
    src?.dns ? `--enrtree ${src.dns.url} --dns-server ${src.dns.server}` : '',
    src?.px ? `--px ${src.px.multiaddr}` : '',
    src?.rendezvous ? `--rendezvous ${src.rendezvous.multiaddr}` : '',
  ].filter(Boolean)
  return [
    table(rows, {singleLine: true}).trimEnd(),
    `${c.bold('bootnode')} ${d.bootnode}`,
    '',
    `crawl it: waku-disc crawl --bootnode ${sourceFlags.length > 0 ? d.bootnode : `${d.bootnode.slice(0, 24)}…`} ${d.protocolId === 'discv5' ? '--network ethereum' : ''}`.trimEnd() +
      (sourceFlags.length > 0 ? ` --strategy census ${sourceFlags.join(' ')}` : ''),
    'Ctrl-C stops the testnet.',
  ].join('\n')
}
