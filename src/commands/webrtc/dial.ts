import {WebrtcPeerCommand, webrtcDialFlags, webrtcPeerFlags} from '../../cli/webrtc-peer-command.js'

export default class WebrtcDial extends WebrtcPeerCommand<typeof WebrtcDial> {
  static override summary = 'Dial a peer running `webrtc listen` and report the path, RTT and throughput'
  static override description =
    'Dial a peer running `webrtc listen` (through a `webrtc signal` room, over Waku relay with --signal waku --peer <its ENR or peer id>, or by pasting offer and answer with --manual) and report the selected candidate pair from both ends (direct or relayed), time to connect, RTT and throughput.'

  static override examples = ['<%= config.bin %> <%= command.id %> --signal ws://198.51.100.7:8000 --room lab1 --stun stun:198.51.100.7:3478', '<%= config.bin %> <%= command.id %> --signal waku --waku-node /ip4/198.51.100.7/tcp/8000/ws/p2p/16Uiu2HAm… --peer enr:-…', '<%= config.bin %> <%= command.id %> --manual --stun stun:198.51.100.7']

  static override flags = {...webrtcPeerFlags, ...webrtcDialFlags}

  protected readonly role = 'offerer'
}
