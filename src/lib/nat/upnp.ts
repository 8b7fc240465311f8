/**
 * UPnP IGD control (WANIPConnection:1/2, WANPPPConnection:1): the device description, SOAP
 * actions and their faults by name. Ours rather than @achingbrain/nat-port-mapper (4.0.5), which
 * only finds IGD:2 devices, raises every lease to at least 3600 s, deletes by the internal port
 * (wrong when the gateway gave another external port) and swallows removal errors, and has no
 * read-back (GetSpecificPortMappingEntry). XML is parsed by fast-xml-parser, bounded in size;
 * documents with a DOCTYPE are refused (no entity expansion from a device we do not trust).
 */
import {XMLParser} from 'fast-xml-parser'

import {abortError, ProtocolError, UnreachableError} from '../errors.js'
import {codeName} from '../code-names.js'
import type {UpnpDevice} from './types.js'

const MAX_BODY = 256 * 1024
export const WAN_SERVICE_TYPES = ['urn:schemas-upnp-org:service:WANIPConnection:2', 'urn:schemas-upnp-org:service:WANIPConnection:1', 'urn:schemas-upnp-org:service:WANPPPConnection:1'] as const

/** UPnP errorCode values of the IGD WANIPConnection service (IGD:2 WANIPConnection §2.5, UDA §3.2.2). */
export const UPNP_ERROR = {
  InvalidAction: 401,
  InvalidArgs: 402,
  ActionFailed: 501,
  ArgumentValueInvalid: 600,
  ArgumentValueOutOfRange: 601,
  OptionalActionNotImplemented: 602,
  OutOfMemory: 603,
  HumanInterventionRequired: 604,
  StringArgumentTooLong: 605,
  ActionNotAuthorized: 606,
  NoSuchEntryInArray: 714,
  WildCardNotPermittedInSrcIP: 715,
  WildCardNotPermittedInExtPort: 716,
  ConflictInMappingEntry: 718,
  SamePortValuesRequired: 724,
  OnlyPermanentLeasesSupported: 725,
  RemoteHostOnlySupportsWildcard: 726,
  ExternalPortOnlySupportsWildcard: 727,
  NoPortMapsAvailable: 728,
  ConflictWithOtherMechanisms: 729,
  WildCardNotPermittedInIntPort: 732,
} as const

export function upnpErrorName(code: number): string | undefined {
  return codeName(UPNP_ERROR, code)
}

const parser = new XMLParser({removeNSPrefix: true, parseTagValue: false, ignoreAttributes: true, trimValues: true, processEntities: true})

function parseXml(text: string, what: string): Record<string, unknown> {
  if (/<!DOCTYPE/i.test(text)) throw new ProtocolError('UPNP_BAD_XML', `${what}: a DOCTYPE is not allowed (refused, no entity expansion)`)
  try {
    const doc = parser.parse(text, true) as unknown
    if (typeof doc !== 'object' || doc === null) throw new Error('not an element')
    return doc as Record<string, unknown>
  } catch (err) {
    throw new ProtocolError('UPNP_BAD_XML', `${what}: not well-formed XML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`, {cause: err})
  }
}

async function readBounded(response: Response, what: string): Promise<string> {
  const reader = response.body?.getReader()
  if (!reader) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const {done, value} = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY) {
      await reader.cancel()
      throw new ProtocolError('UPNP_TOO_LARGE', `${what}: more than ${MAX_BODY} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function http(url: string, init: RequestInit & {what: string; timeoutMs: number; signal?: AbortSignal}): Promise<{status: number; text: string}> {
  const signals = [AbortSignal.timeout(init.timeoutMs), ...(init.signal ? [init.signal] : [])]
  const signal = AbortSignal.any(signals)
  try {
    const response = await fetch(url, {...init, signal, redirect: 'error'})
    return {status: response.status, text: await readBounded(response, init.what)}
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    if (init.signal?.aborted) throw abortError(init.signal, init.what)
    if (signal.aborted) throw new UnreachableError('UPNP_TIMEOUT', `${init.what}: no answer from ${url} in ${init.timeoutMs} ms`)
    const cause = (err as {cause?: {code?: string; message?: string}}).cause
    throw new UnreachableError('UPNP_HTTP_FAILED', `${init.what}: ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, {cause: err})
  }
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined)

interface DeviceNode {
  friendlyName?: unknown
  manufacturer?: unknown
  modelName?: unknown
  serviceList?: {service?: unknown}
  deviceList?: {device?: unknown}
}

/** Fetches the description at `location` and finds the WAN connection service. */
export async function describeGateway(location: string, options: {timeoutMs: number; signal?: AbortSignal}): Promise<UpnpDevice & {serviceType: string; controlUrl: string}> {
  const what = 'UPnP device description'
  const res = await http(location, {method: 'GET', what, timeoutMs: options.timeoutMs, signal: options.signal})
  if (res.status !== 200) throw new ProtocolError('UPNP_HTTP_STATUS', `${what}: ${location} answered HTTP ${res.status}`, {details: {status: res.status}})
  const doc = parseXml(res.text, what)
  const root = doc['root'] as {URLBase?: unknown; device?: DeviceNode} | undefined
  if (!root?.device) throw new ProtocolError('UPNP_BAD_DESCRIPTION', `${what}: no <root><device> element`)
  const found: Array<{serviceType: string; controlURL: string}> = []
  const walk = (device: DeviceNode, depth: number) => {
    if (depth > 8) return
    for (const s of asArray(device.serviceList?.service as Record<string, unknown> | Record<string, unknown>[] | undefined)) {
      const serviceType = text(s?.['serviceType'])
      const controlURL = text(s?.['controlURL'])
      if (serviceType && controlURL) found.push({serviceType, controlURL})
    }
    for (const d of asArray(device.deviceList?.device as DeviceNode | DeviceNode[] | undefined)) if (d && typeof d === 'object') walk(d, depth + 1)
  }
  walk(root.device, 0)
  const service = WAN_SERVICE_TYPES.map((t) => found.find((f) => f.serviceType === t)).find(Boolean)
  if (!service) throw new ProtocolError('UPNP_NO_WAN_SERVICE', `${what}: no WANIPConnection or WANPPPConnection service (found ${found.map((f) => f.serviceType).join(', ') || 'none'})`)
  let controlUrl: URL
  try {
    controlUrl = new URL(service.controlURL, text(root.URLBase) ?? location)
  } catch {
    throw new ProtocolError('UPNP_BAD_DESCRIPTION', `${what}: controlURL ${JSON.stringify(service.controlURL.slice(0, 100))} is not a URL`)
  }
  if (controlUrl.host !== new URL(location).host || controlUrl.protocol !== 'http:') {
    throw new ProtocolError('UPNP_BAD_DESCRIPTION', `${what}: controlURL ${controlUrl.href} is not on the device that answered (${new URL(location).host}): refused`)
  }
  return {
    location,
    friendlyName: text(root.device.friendlyName),
    manufacturer: text(root.device.manufacturer),
    modelName: text(root.device.modelName),
    serviceType: service.serviceType,
    controlUrl: controlUrl.href,
  }
}

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;'})[c]!)

/** Runs one SOAP action; a fault becomes a ProtocolError UPNP_SOAP_FAULT with the errorCode named. */
export async function soapAction(
  service: {serviceType: string; controlUrl: string},
  action: string,
  args: Array<[string, string | number]>,
  options: {timeoutMs: number; signal?: AbortSignal},
): Promise<Record<string, string>> {
  const what = `UPnP ${action}`
  const body =
    '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>' +
    `<u:${action} xmlns:u="${service.serviceType}">` +
    args.map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`).join('') +
    `</u:${action}></s:Body></s:Envelope>\r\n`
  const res = await http(service.controlUrl, {
    method: 'POST',
    headers: {'content-type': 'text/xml; charset="utf-8"', soapaction: `"${service.serviceType}#${action}"`},
    body,
    what,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  })
  const doc = res.text.trim() === '' ? {} : parseXml(res.text, what)
  const envelopeBody = (doc['Envelope'] as {Body?: Record<string, unknown>} | undefined)?.Body
  if (res.status !== 200) {
    const err = (envelopeBody?.['Fault'] as {detail?: {UPnPError?: {errorCode?: unknown; errorDescription?: unknown}}} | undefined)?.detail?.UPnPError
    const code = Number(text(err?.errorCode))
    if (err && Number.isInteger(code)) {
      const name = upnpErrorName(code) ?? text(err.errorDescription) ?? `UPnP error ${code}`
      throw new ProtocolError('UPNP_SOAP_FAULT', `${what}: the gateway answered fault ${code} ${name}`, {details: {resultCode: code, resultName: name, description: text(err.errorDescription)}})
    }
    throw new ProtocolError('UPNP_HTTP_STATUS', `${what}: HTTP ${res.status} without a UPnP fault`, {details: {status: res.status}})
  }
  const answer = envelopeBody?.[`${action}Response`]
  if (answer === undefined) throw new ProtocolError('UPNP_BAD_RESPONSE', `${what}: no <${action}Response> in the SOAP body`)
  const out: Record<string, string> = {}
  if (answer && typeof answer === 'object') for (const [k, v] of Object.entries(answer)) if (text(v) !== undefined) out[k] = text(v)!
  return out
}
