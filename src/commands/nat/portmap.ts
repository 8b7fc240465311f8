import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {portmap, PORTMAP_PROTOCOLS, type PortMapProtocolName, type PortMapReport} from '../../lib/nat/index.js'
import {renderPortMap} from '../../ui/nat.js'

export default class NatPortmap extends BaseCommand<typeof NatPortmap> {
  static override summary = 'Find the gateway and test UPnP IGD, NAT-PMP and PCP port mapping'
  static override description =
    'Finds the gateway (--gateway, else the default route, else whoever answers SSDP) and tries each port-mapping protocol in turn: UPnP IGD (SSDP search, device description, GetExternalIPAddress, AddPortMapping, GetSpecificPortMappingEntry, DeletePortMapping), NAT-PMP (RFC 6886) and PCP (RFC 6887) to port 5351 of the gateway. Each makes one test mapping of --port/--protocol, reads it back and removes it unless --keep. Errors are named by code (UPnP SOAP faults, NAT-PMP and PCP result codes). --check-enr compares a record\'s ip/tcp/udp with the external address and the mapping. Exit 0 when at least one protocol mapped the port, 3 when none did, 4 when no gateway answered.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --gateway 192.168.1.1 --port 9000 --protocol udp --json',
    '<%= config.bin %> <%= command.id %> --gateway 192.168.1.1 --protocols natpmp,pcp --port 60000 --protocol tcp',
    '<%= config.bin %> <%= command.id %> --check-enr enr:-QE… --port 9000',
  ]
  static override flags = {
    gateway: Flags.string({description: 'gateway IPv4 address (default: the default route\'s gateway)'}),
    port: Flags.integer({description: 'internal port to map (and the external port asked for)', default: 9000, min: 1, max: 65_535}),
    protocol: Flags.string({description: 'transport of the test mapping', options: ['udp', 'tcp'], default: 'udp'}),
    protocols: Flags.string({description: 'port-mapping protocols to try, comma-separated', default: 'upnp,natpmp,pcp'}),
    lifetime: Flags.integer({description: 'lifetime asked for the test mapping, in seconds', default: 120, min: 1, max: 86_400}),
    keep: Flags.boolean({description: 'leave the test mappings in place (they expire after --lifetime)'}),
    'natpmp-port': Flags.integer({description: 'NAT-PMP and PCP server port on the gateway', default: 5351, min: 1, max: 65_535}),
    'internal-address': Flags.string({description: 'our address as the gateway sees it (default: the source address of the route to the gateway)'}),
    'upnp-location': Flags.string({description: 'UPnP device description URL (skips SSDP)'}),
    'check-enr': Flags.string({description: "an ENR whose ip/tcp/udp to compare with the gateway's view"}),
    'exchange-timeout': Flags.integer({description: 'ms to wait for each answer (SSDP window, one request with its retransmissions)', default: 2000, min: 50}),
  }

  async run(): Promise<PortMapReport> {
    const f = this.flags
    const protocols = f.protocols.split(',').map((p) => p.trim()).filter(Boolean) as PortMapProtocolName[]
    const report = await portmap({
      gateway: f.gateway,
      port: f.port,
      protocol: f.protocol as 'udp' | 'tcp',
      protocols: protocols.length ? protocols : [...PORTMAP_PROTOCOLS],
      lifetime: f.lifetime,
      keep: f.keep,
      natPmpPort: f['natpmp-port'],
      internalAddress: f['internal-address'],
      upnpLocation: f['upnp-location'],
      checkEnr: f['check-enr'],
      timeoutMs: f['exchange-timeout'],
      signal: this.signal,
    })
    this.out(renderPortMap(report))
    this.resultExitCode = report.exitCode
    return report
  }
}
