import {createWriteStream, type WriteStream} from 'node:fs'
import {isIP} from 'node:net'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {nodeFilterFlags, nodeFilterFrom} from '../../cli/flags.js'
import {testnetErrorInFlagTerms, type TestnetFlagNames} from '../../cli/testnet-option-error.js'
import {
  CRAWL_STRATEGIES,
  NETWORK_PRESETS,
  PRESET_NAMES,
  WAKU_NETWORK_BOOTNODES,
  loadBootnodes,
  assertReachedSomething,
  crawl,
  crawlNodeSet,
  csvHeader,
  csvRow,
  initialCrawlView,
  monitorCrawls,
  reduceCrawl,
  stripNodes,
  type CrawlOptions,
  type CrawlStrategy,
  type CrawlSummary,
  type CrawledNode,
  type DiscoveryNetwork,
  type MonitorSummary,
} from '../../lib/discv5/index.js'
import type {NodeFilter} from '../../lib/enr/index.js'
import {BadInputError, ConfigError, ExitCode, UnreachableError} from '../../lib/errors.js'
import {CrawlRecorder, type RecordOutcome} from '../../lib/history/recorder.js'
import {HistoryStore} from '../../lib/history/store.js'
import {writeNodeSetFile} from '../../lib/nodeset/index.js'
import {defaultNamespaces, discoverRendezvousPeers} from '../../lib/sources/index.js'
import {startTestnet, type Testnet} from '../../lib/testnet/index.js'
import {liveViewAllowed} from '../../ui/colors.js'
import {discoveryCurveChart} from '../../ui/chart.js'
import {crawlStatusLine, renderCrawlSummary, renderMonitorRound, renderMonitorSummary, startCrawlDashboard} from '../../ui/crawl.js'

/** crawl --testnet's flag for each testnet option the library checks. */
const TESTNET_FLAGS: TestnetFlagNames = {nodes: '--testnet', dead: '--testnet-dead', liars: '--testnet-liars', libp2p: '--testnet-libp2p', libp2pLies: '--testnet-libp2p-lies', cluster: '--preset', shards: '--preset'}

export interface CrawlCommandResult extends CrawlSummary {
  filter: NodeFilter
  outputs: {ndjsonLines?: number; out?: string; outNodes?: number; csv?: string; csvRows?: number}
  testnet?: {nodes: number; live: number; dead: number; liars: number; protocolId: string}
  /** With --db: where the crawl was stored. */
  database?: RecordOutcome
}

/** About how many libp2p listeners `crawl --testnet` starts when --testnet-libp2p is not given. */
const DEFAULT_TESTNET_LISTENERS = 250

/** --bind values → the crawl's bindHost/bindHost6 (given only IPv4: no IPv6 socket; only IPv6: an IPv6-only crawler). */
function bindOptions(values: string[] | undefined): {bindHost?: string; bindHost6?: string | null} {
  if (!values || values.length === 0) return {}
  const v4 = values.filter((v) => isIP(v) === 4)
  const v6 = values.filter((v) => isIP(v) === 6)
  const bad = values.find((v) => isIP(v) === 0)
  if (bad !== undefined) throw new BadInputError('BAD_BIND', `--bind ${bad}: not an IP address`)
  if (v4.length > 1 || v6.length > 1) throw new BadInputError('BAD_BIND', '--bind takes at most one IPv4 and one IPv6 address')
  if (v4.length === 0) return {bindHost: v6[0]!, bindHost6: null}
  return {bindHost: v4[0]!, bindHost6: v6[0] ?? null}
}

export default class Crawl extends BaseCommand<typeof Crawl> {
  static override description = `Crawl a discv5 network (Waku's d5waku DHT or Ethereum's discv5) and report who is on it: every node's record, liveness, Waku capabilities, clusters and shards, with a discovery curve and the random-walk cost analysis.

Strategies: exhaustive (default; enumerates every responsive node's routing table bucket by bucket, so the output includes neighbours), census (one rotating-distance FINDNODE per node: the fastest full node list), random-walk (Kademlia lookups toward random targets, as Waku nodes discover today; runs until --duration or --max-lookups). Addresses a public node could not legitimately point at (private, loopback, link-local, multicast, reserved, UDP ports ≤ 1024) are never contacted unless the bootnode sits in that range or --allow-private / --allow-low-ports is given.

Visits (--visit, the default for --network waku): every responsive peer whose record gives a libp2p address is dialled (identify, Waku metadata, ping) under the same safety rules; failures get a stable class (timeout, connection-refused, peer-id-mismatch, …) and the record is checked against the answers (ENR_PROTOCOL_MISSING, CLUSTER_MISMATCH, SHARDS_NOT_SERVED, …). NDJSON lines carry a "visit" object; the summary counts agents, protocols, metadata shards, failures and findings.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --testnet 200',
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --network waku --bootnode enr:-QESuEB4… --strategy census --out nodes.json',
    '<%= config.bin %> <%= command.id %> --network ethereum --bootnode ./bootnodes.txt --json',
    '<%= config.bin %> <%= command.id %> --enrtree enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im --waku-only --caps store --ndjson',
    '<%= config.bin %> <%= command.id %> --testnet 200 --strategy census --ndjson > nodes.ndjson',
    '<%= config.bin %> <%= command.id %> --bootnode ./fleet.txt --visit-concurrency 64 --visit-timeout 3000 --csv peers.csv',
    '<%= config.bin %> <%= command.id %> --network waku --no-visit --out nodes.json',
    '<%= config.bin %> <%= command.id %> --preset twn --strategy census --json',
    '<%= config.bin %> <%= command.id %> --bootnode ./fleet.txt --bind 0.0.0.0 --bind :: --strategy census',
    '<%= config.bin %> <%= command.id %> --strategy random-walk --duration 60',
    '<%= config.bin %> <%= command.id %> --monitor 300 --metrics-port 9464 --out nodes.json',
    '<%= config.bin %> <%= command.id %> --testnet 200 --monitor 5 --rounds 3 --db crawls.sqlite',
    '<%= config.bin %> <%= command.id %> --monitor 600 --db postgres://waku@127.0.0.1:5432/history',
  ]
  static override flags = {
    preset: Flags.string({
      description: 'a network nwaku ships: sets bootstrap, cluster and shards, and reports Waku records outside them (twn = The Waku Network, cluster 1)',
      options: PRESET_NAMES,
      env: 'WAKU_DISC_PRESET',
    }),
    network: Flags.string({description: "which DHT: waku (protocol id d5waku) or ethereum (discv5)", options: ['waku', 'ethereum'], default: 'waku', env: 'WAKU_DISC_NETWORK'}),
    'protocol-id': Flags.string({description: 'override the 6-byte packet protocol id (e.g. d5waku, discv5)'}),
    bootnode: Flags.string({description: 'bootstrap node: ENR, or a file of ENRs / nodes.json (repeatable; - for stdin)', multiple: true, exclusive: ['testnet']}),
    enrtree: Flags.string({description: 'an EIP-1459 tree (enrtree://KEY@domain): a discovery source compared with the DHT, and the bootstrap when no --bootnode is given', exclusive: ['testnet']}),
    px: Flags.string({description: 'a peer-exchange node (multiaddr or ENR) to ask as a discovery source (repeatable)', multiple: true}),
    'px-queries': Flags.integer({description: 'queries per --px node (a responder samples at random)', default: 3, min: 1, max: 100}),
    rendezvous: Flags.string({description: 'a Waku rendezvous point (multiaddr or ENR) to ask as a discovery source (repeatable)', multiple: true}),
    'rendezvous-namespace': Flags.string({description: 'rendezvous namespace to ask (repeatable; default rs/<cluster>/mix and rs/<cluster>/0…7)', multiple: true}),
    'dns-server': Flags.string({description: 'DNS server for --enrtree (HOST:PORT; default: the system resolver)', env: 'WAKU_DISC_DNS_SERVER'}),
    testnet: Flags.integer({description: 'offline demo: start a local testnet of N nodes on loopback and crawl it', min: 2, max: 5000}),
    'testnet-dead': Flags.string({description: 'with --testnet: share of dead nodes', default: '0.1'}),
    'testnet-liars': Flags.string({description: 'with --testnet: share of misbehaving nodes', default: '0.05'}),
    'testnet-libp2p': Flags.string({
      description: 'with --testnet: share of honest Waku nodes that run a libp2p listener for --visit (default: all, up to about 250 listeners)',
    }),
    'testnet-libp2p-lies': Flags.string({description: 'with --testnet: share of those listeners that plant one lie or dial failure each', default: '0.1'}),
    visit: Flags.boolean({
      description: 'dial every responsive node with a libp2p address: identify, Waku metadata, ping, and check its record against the answers (default: on for --network waku)',
      allowNo: true,
    }),
    'visit-concurrency': Flags.integer({description: 'visits in flight at once', default: 32, min: 1, max: 1024}),
    'visit-timeout': Flags.integer({description: 'budget of one visit, dial to ping, in ms', default: 5000, min: 100}),
    strategy: Flags.string({char: 's', description: 'crawl strategy', options: [...CRAWL_STRATEGIES], default: 'exhaustive'}),
    'allow-private': Flags.boolean({description: 'also contact private, loopback and link-local addresses learned from any node'}),
    'allow-low-ports': Flags.boolean({description: 'also contact UDP ports 1–1024'}),
    'trusted-range': Flags.string({description: 'CIDR to contact whatever its class (repeatable)', multiple: true}),
    ...nodeFilterFlags('report only nodes'),
    concurrency: Flags.integer({description: 'requests in flight at once', default: 256, min: 1, max: 4096}),
    'max-new-sessions': Flags.integer({description: 'new handshakes in flight at once (each costs ~4 ms of CPU)', default: 48, min: 1, max: 1024}),
    'request-timeout': Flags.integer({description: 'per-request timeout in ms', default: 2500, min: 100}),
    'node-rate': Flags.integer({description: 'maximum requests per second to one node', default: 10, min: 0}),
    duration: Flags.integer({description: 'random-walk: stop after this many seconds', min: 1}),
    'max-lookups': Flags.integer({description: 'random-walk: stop after this many lookups', min: 1}),
    walkers: Flags.integer({description: 'random-walk: lookups in parallel', default: 1, min: 1, max: 64}),
    port: Flags.integer({description: 'local UDP port (0 = any)', default: 0, min: 0, max: 65_535}),
    bind: Flags.string({
      description: 'local address to bind (repeatable: one IPv4 and one IPv6 for dual stack, e.g. --bind 0.0.0.0 --bind ::); default: IPv4, plus IPv6 when a bootnode has an ip6 address',
      multiple: true,
    }),
    ndjson: Flags.boolean({description: 'stream nodes to stdout as found: one {"type":"node",…} line each, then a {"type":"summary",…} line', exclusive: ['json']}),
    out: Flags.string({description: "write the responsive nodes as geth's nodes.json (- for stdout)"}),
    csv: Flags.string({description: 'write every reported node as a CSV row to this file'}),
    monitor: Flags.integer({description: 'crawl again every INTERVAL seconds, tracking per-node first/last seen and uptime', min: 1}),
    rounds: Flags.integer({description: 'with --monitor: stop after this many rounds', min: 1}),
    'metrics-port': Flags.integer({description: 'with --monitor: serve Prometheus metrics on this port (0 = any free port)', min: 0, max: 65_535}),
    'metrics-host': Flags.string({description: 'with --monitor: address for the metrics server', default: '127.0.0.1'}),
    db: Flags.string({description: 'store the crawl (each --monitor round) in a history database: sqlite:PATH, a file path, or postgres://…', env: 'WAKU_DISC_DB'}),
  }

  private csvStream?: WriteStream

  async run(): Promise<CrawlCommandResult | MonitorSummary> {
    const f = this.flags
    const network = f.network as DiscoveryNetwork
    const preset = f.preset === undefined ? undefined : NETWORK_PRESETS[f.preset]!
    if (preset && network !== 'waku') throw new BadInputError('PRESET_NOT_WAKU', `--preset ${preset.name} is a Waku network; it cannot be combined with --network ${network}`)
    const filter: NodeFilter = nodeFilterFrom(f)
    if (f.out === '-' && (f.ndjson || this.jsonEnabled())) throw new BadInputError('STDOUT_TAKEN', '--out - cannot be combined with --ndjson or --json')
    if (f.strategy === 'random-walk' && f.duration === undefined && f['max-lookups'] === undefined && f.monitor === undefined) {
      this.progress('random-walk runs until Ctrl-C (give --duration or --max-lookups to bound it)')
    }

    // Ethereum records' tcp is the devp2p (RLPx) port, not libp2p: visits are for Waku by default.
    const protocolId = f['protocol-id'] ?? (network === 'ethereum' ? 'discv5' : 'd5waku')
    const visit = f.visit ?? protocolId === 'd5waku'
    let testnet: Testnet | undefined
    try {
      let bootnodes: string[]
      if (f.testnet !== undefined) {
        this.progress(`starting a ${f.testnet}-node testnet on 127.0.0.1…`)
        testnet = await startTestnet({
          nodes: f.testnet,
          protocolId,
          ...(preset ? {cluster: preset.cluster, ...(preset.numShards ? {shards: preset.numShards} : {})} : {}),
          dead: Number(f['testnet-dead']),
          liars: Number(f['testnet-liars']),
          // Each listener is a js-libp2p node (~1–2 MB): a 5,000-node lab gets about 250 by default.
          ...(visit ? {libp2p: f['testnet-libp2p'] !== undefined ? Number(f['testnet-libp2p']) : Math.min(1, DEFAULT_TESTNET_LISTENERS / (f.testnet * 0.7)), libp2pLies: Number(f['testnet-libp2p-lies'])} : {}),
          signal: this.signal,
        }).catch((error: unknown) => {
          throw testnetErrorInFlagTerms(error, TESTNET_FLAGS)
        })
        this.progress(
          `testnet up in ${(testnet.startupMs / 1000).toFixed(1)} s: ${testnet.counts.live} live nodes, ${testnet.counts.dead} dead, ${testnet.counts.liars} liars` +
            (testnet.counts.libp2p > 0 ? `, ${testnet.counts.libp2p} libp2p listeners` : ''),
        )
        bootnodes = [testnet.bootnode]
      } else if (f.bootnode && f.bootnode.length > 0) {
        bootnodes = await loadBootnodes(f.bootnode, this.signal)
      } else if (f.enrtree) {
        // Resolved once, as a source: with no --bootnode its records are also the bootstrap.
        bootnodes = []
      } else if (preset) {
        if (preset.bootnodes.length > 0) {
          this.progress(`bootstrapping from ${preset.description} (${preset.bootnodes.length} nodes)`)
          bootnodes = [...preset.bootnodes]
        } else if (preset.enrtree) {
          bootnodes = []
        } else {
          throw new BadInputError('NO_BOOTNODES', `--preset ${preset.name} publishes no discv5 bootstrap records`, {hint: 'give --bootnode ENR (a node of that network) or --enrtree URL'})
        }
      } else if (network === 'waku' && f['protocol-id'] === undefined) {
        this.progress(`bootstrapping from The Waku Network's fleet (${WAKU_NETWORK_BOOTNODES.length} nodes)`)
        bootnodes = [...WAKU_NETWORK_BOOTNODES]
      } else {
        throw new BadInputError('NO_BOOTNODES', `no bootstrap nodes for --network ${network}`, {hint: 'give --bootnode ENR (repeatable) or --enrtree URL'})
      }

      const options: CrawlOptions = {
        bootnodes,
        network,
        protocolId: f['protocol-id'],
        strategy: f.strategy as CrawlStrategy,
        allowPrivate: f['allow-private'],
        allowLowPorts: f['allow-low-ports'],
        trustedRanges: f['trusted-range'],
        filter,
        concurrency: f.concurrency,
        maxNewSessions: f['max-new-sessions'],
        requestTimeoutMs: f['request-timeout'],
        perNodeRate: f['node-rate'],
        durationMs: f.duration === undefined ? undefined : f.duration * 1000,
        maxLookups: f['max-lookups'],
        walkers: f.walkers,
        bindPort: f.port,
        ...bindOptions(f.bind),
        signal: this.signal,
        ...(preset ? {preset} : {}),
        ...(visit ? {visit: {concurrency: f['visit-concurrency'], timeoutMs: f['visit-timeout']}} : {}),
      }
      const enrtree = f.enrtree ?? (bootnodes.length === 0 ? preset?.enrtree : undefined)
      if (enrtree || f.px || f.rendezvous) {
        const cluster = preset?.cluster ?? filter.cluster ?? 1
        options.gather = {
          ...(enrtree ? {enrtree: {url: enrtree, server: f['dns-server']}} : {}),
          ...(f.px ? {px: f.px, pxQueries: f['px-queries']} : {}),
          ...(f.rendezvous
            ? {rendezvous: f.rendezvous, rendezvousNamespaces: f['rendezvous-namespace'] ?? defaultNamespaces(cluster, preset?.numShards ?? 8), discoverRendezvous: discoverRendezvousPeers}
            : {}),
        }
      }
      if (testnet) options.protocolId = testnet.protocolId
      // Opened before the crawl: a wrong URL or a newer schema fails at once, not after the crawl.
      if (f.db) {
        this.history = await HistoryStore.open(f.db)
        this.progress(`storing the crawl in ${this.history.description}`)
      }
      if (f.csv) {
        this.csvStream = createWriteStream(f.csv, {encoding: 'utf8'})
        this.csvStream.write(csvHeader() + '\n')
      }
      if (f.monitor !== undefined) return await this.runMonitor(options, f.monitor)
      const result = await this.runOnce(options, filter)
      if (testnet) result.testnet = {nodes: testnet.counts.nodes, live: testnet.counts.live, dead: testnet.counts.dead, liars: testnet.counts.liars, protocolId: testnet.protocolId}
      return result
    } finally {
      if (this.csvStream) await new Promise<void>((resolve) => this.csvStream!.end(() => resolve()))
      if (testnet) await testnet.stop()
      await this.history?.close()
    }
  }

  private history?: HistoryStore

  /** Settings stored with each crawl row: the flags that shaped it. */
  private historySettings(): Record<string, unknown> {
    const f = this.flags
    const settings: Record<string, unknown> = {network: f.network, strategy: f.strategy, concurrency: f.concurrency, requestTimeoutMs: f['request-timeout']}
    if (f.testnet !== undefined) settings.testnet = f.testnet
    if (f.enrtree) settings.enrtree = f.enrtree
    if (f['protocol-id']) settings.protocolId = f['protocol-id']
    if (f.visit !== undefined) settings.visit = f.visit
    if (f.preset !== undefined) settings.preset = f.preset
    return settings
  }

  /** A database that failed mid-crawl: the outputs are written; now say so with its exit code. */
  private throwIfDatabaseFailed(recorder: CrawlRecorder | undefined): void {
    if (recorder?.error) throw recorder.error
  }

  private writeNode(node: CrawledNode, counters: {ndjson: number; csv: number}): void {
    if (!node.matches) return
    if (this.flags.ndjson) {
      this.ndjson('node', node)
      counters.ndjson++
    }
    if (this.csvStream) {
      this.csvStream.write(csvRow(node) + '\n')
      counters.csv++
    }
  }

  private async runOnce(options: CrawlOptions, filter: NodeFilter): Promise<CrawlCommandResult> {
    const f = this.flags
    const live = this.showProgress && liveViewAllowed()
    let view = initialCrawlView()
    const dashboard = live ? startCrawlDashboard(view) : undefined
    let lastLine = 0
    const counters = {ndjson: 0, csv: 0}
    const nodes: CrawledNode[] = []
    let summary: CrawlSummary | undefined
    const recorder = this.history ? new CrawlRecorder(this.history, {settings: this.historySettings(), onError: (e) => this.progress(`database: ${e.message} (the crawl goes on; its other outputs are still written)`)}) : undefined
    try {
      for await (const event of crawl(options)) {
        recorder?.handle(event)
        view = reduceCrawl(view, event)
        if (event.type === 'node') {
          nodes.push(event.node)
          this.writeNode(event.node, counters)
        } else if (event.type === 'done') {
          summary = stripNodes(event.result)
        } else if (event.type === 'sources') {
          for (const src of event.sources) this.progress(`source ${src.name}: ${src.records + src.peers} peers in ${src.ms} ms${src.errors ? `, ${src.errors} errors` : ''}`)
        } else if (event.type === 'progress' && !dashboard && Date.now() - lastLine >= 2000) {
          lastLine = Date.now()
          this.progress(crawlStatusLine(view))
        }
        dashboard?.update(view)
      }
    } finally {
      dashboard?.stop()
    }
    const result: CrawlCommandResult = {...summary!, filter, outputs: {}}
    if (recorder) result.database = await recorder.settle()
    if (f.ndjson) result.outputs.ndjsonLines = counters.ndjson
    if (f.csv) {
      result.outputs.csv = f.csv
      result.outputs.csvRows = counters.csv
    }
    if (f.out) {
      const set = crawlNodeSet(nodes)
      await writeNodeSetFile(f.out, set, {stdout: process.stdout})
      result.outputs.out = f.out
      result.outputs.outNodes = Object.keys(set).length
    }
    // The stream ends with the same summary --json returns (without the node list already streamed).
    if (f.ndjson) this.ndjson('summary', result)
    if (!f.ndjson && f.out !== '-') {
      this.out(renderCrawlSummary(result))
      const chart = this.jsonEnabled() ? undefined : discoveryCurveChart(result.curve)
      if (chart) this.out(chart)
    } else if (this.showProgress) process.stderr.write(renderCrawlSummary(result, process.stderr) + '\n')
    if (result.database && this.showProgress) this.progress(`stored as crawl ${result.database.crawlId ?? '?'} in ${result.database.database}: ${result.database.observations} observations in ${result.database.transactions} transactions`)
    this.throwIfDatabaseFailed(recorder)
    if (result.state === 'cancelled') this.resultExitCode = ExitCode.interrupted
    else assertReachedSomething(result)
    return result
  }

  private async runMonitor(options: CrawlOptions, intervalSeconds: number): Promise<MonitorSummary> {
    const f = this.flags
    let done: MonitorSummary | undefined
    const counters = {ndjson: 0, csv: 0}
    const scores = new Map<string, number>()
    const firstResponse = new Map<string, string>()
    for await (const event of monitorCrawls({
      ...options,
      intervalMs: intervalSeconds * 1000,
      rounds: f.rounds,
      metricsPort: f['metrics-port'],
      metricsHost: f['metrics-host'],
      ...(this.history ? {history: this.history, historySettings: this.historySettings()} : {}),
    })) {
      switch (event.type) {
        case 'metrics':
          this.progress(`Prometheus metrics at ${event.url}`)
          break
        case 'crawl':
          if (event.event.type === 'node') this.writeNode(event.event.node, counters)
          if (event.event.type === 'done' && f.out) {
            const nodes = event.event.result.nodes
            for (const n of nodes) {
              if (n.status !== 'responsive') continue
              scores.set(n.nodeId, (scores.get(n.nodeId) ?? 0) + 1)
              if (!firstResponse.has(n.nodeId)) firstResponse.set(n.nodeId, n.firstSeen.replace(/\.\d{3}Z$/, 'Z'))
            }
            await writeNodeSetFile(f.out, crawlNodeSet(nodes, {scores, firstResponse}), {stdout: process.stdout})
          }
          break
        case 'round': {
          const meanUptime = event.nodes.length > 0 ? event.nodes.reduce((a, n) => a + n.uptime, 0) / event.nodes.length : 0
          this.progress(renderMonitorRound(event.round, event.summary, event.nodes.length, meanUptime))
          if (f.ndjson) this.ndjson('round', {round: event.round, summary: event.summary, nodes: event.nodes.length, meanUptime})
          break
        }
        case 'recorded':
          if (event.outcome.error) this.progress(`database: ${event.outcome.error.message}; stopping after this round`)
          else this.progress(`round ${event.round} stored as crawl ${event.outcome.crawlId} (${event.outcome.observations} observations)`)
          break
        case 'done':
          done = event.summary
          break
        default:
          break
      }
    }
    this.out(renderMonitorSummary(done!))
    const failed = done!.database?.error
    if (failed) throw failed.exitCode === ExitCode.config ? new ConfigError(failed.code, failed.message) : new UnreachableError(failed.code, failed.message)
    if (done!.state === 'cancelled') this.resultExitCode = ExitCode.interrupted
    return done!
  }
}
