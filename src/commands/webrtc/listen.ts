import {WebrtcPeerCommand, webrtcPeerFlags} from '../../cli/webrtc-peer-command.js'

export default class WebrtcListen extends WebrtcPeerCommand<typeof WebrtcListen> {
  static override summary = 'Wait for a WebRTC peer (signalling room or --manual) and report the connection'
  static override description =
    'Wait for a peer running `webrtc dial` (in a `webrtc signal` room, or by pasting offer and answer with --manual), answer it, and report the selected candidate pair from both ends and the time to connect (the dialer measures RTT and throughput; we answer its pings).'

  static override examples = ['<%= config.bin %> <%= command.id %> --signal ws://198.51.100.7:8000 --room lab1 --stun stun:198.51.100.7:3478', '<%= config.bin %> <%= command.id %> --manual --stun stun:198.51.100.7']

  static override flags = webrtcPeerFlags

  protected readonly role = 'answerer'
}
