import {writeFile} from 'node:fs/promises'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {BadInputError} from '../../lib/errors.js'
import {renderHistoryHtml} from '../../lib/history/html.js'
import {loadHistory, type HistoryReport} from '../../lib/history/report.js'
import {renderHistory} from '../../ui/history.js'

export default class History extends BaseCommand<typeof History> {
  static override summary = 'Report on stored crawls: size, Waku share, churn, uptime, agents, capabilities, shards, one peer'
  static override description =
    'Reads the history that `crawl --db` writes (SQLite file or PostgreSQL) and prints, oldest first, each crawl\'s size and Waku share with the joins and leaves since the crawl before it, the uptime distribution and sessions, capability, shard and agent counts, the last discovery curve and, with --peer, one peer\'s timeline. --html writes the same as one self-contained page with charts.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --db crawls.sqlite',
    '<%= config.bin %> <%= command.id %> --db sqlite:crawls.sqlite --since 7d --json',
    '<%= config.bin %> <%= command.id %> --db postgres://waku@127.0.0.1:5432/history --network waku --html report.html',
    '<%= config.bin %> <%= command.id %> --db crawls.sqlite --peer 16Uiu2HAm…',
  ]
  static override flags = {
    db: Flags.string({description: 'database: sqlite:PATH, a file path, or postgres://user@host:port/db', env: 'WAKU_DISC_DB', required: true}),
    since: Flags.string({description: 'only crawls started at or after this time (ISO date/time, or 7d, 12h, 30m)'}),
    network: Flags.string({description: 'only crawls of this network (waku, ethereum, custom) or protocol id (d5waku, discv5)'}),
    peer: Flags.string({description: 'add this peer\'s timeline (node id or libp2p peer id)'}),
    html: Flags.string({description: 'also write the report as a self-contained HTML page to FILE'}),
  }

  async run(): Promise<HistoryReport> {
    const f = this.flags
    const report = await loadHistory(f.db, {since: f.since, network: f.network, peer: f.peer})
    if (f.html) {
      try {
        await writeFile(f.html, renderHistoryHtml(report, {generatedAt: new Date().toISOString()}), 'utf8')
      } catch (error) {
        throw new BadInputError('WRITE_FAILED', `cannot write ${f.html}: ${(error as Error).message}`)
      }
      this.progress(`wrote ${f.html}`)
    }
    this.out(renderHistory(report))
    return report
  }
}
