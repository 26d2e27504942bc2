// Editor helpers that need a server before (or without) a deployed endpoint: browse, server certificate.
import {
  OPCUAClient, ClientSession, MessageSecurityMode, SecurityPolicy, BrowseDirection, NodeClass, NodeClassMask,
} from 'node-opcua-client';
import { ownCertificateOptions, type EndpointSettings } from './connect-options';
import type { OwnCertificate } from './pki';
import { certificateThumbprint, certificateSubject, firstCertificate } from './certificates';

/** The client PKI (certificate manager) and own certificate a short-lived client uses. */
export interface ClientIdentity { manager: any; own: OwnCertificate }

export interface BrowseEntry {
  nodeId: string;
  browseName: string;
  displayName: string;
  nodeClass: 'Object' | 'Variable' | 'Method' | 'Other';
  /** objects and folders can be opened further */
  hasChildren: boolean;
}

export async function browseChildren(session: ClientSession, nodeId = 'i=85'): Promise<BrowseEntry[]> {
  const result = await session.browse({
    nodeId,
    referenceTypeId: 'HierarchicalReferences',
    includeSubtypes: true,
    browseDirection: BrowseDirection.Forward,
    nodeClassMask: NodeClassMask.Object | NodeClassMask.Variable,
    resultMask: 63,
  });
  if (result.statusCode.value !== 0) throw new Error(`browse ${nodeId}: ${result.statusCode.name}`);
  return (result.references ?? []).map((r) => ({
    nodeId: r.nodeId.toString(),
    browseName: r.browseName?.name ?? '',
    displayName: r.displayName?.text ?? r.browseName?.name ?? '',
    nodeClass: r.nodeClass === NodeClass.Object ? 'Object' : r.nodeClass === NodeClass.Variable ? 'Variable' : r.nodeClass === NodeClass.Method ? 'Method' : 'Other',
    hasChildren: r.nodeClass === NodeClass.Object,
  }));
}

function transientClient(s: EndpointSettings, id: ClientIdentity, secure: boolean): OPCUAClient {
  return OPCUAClient.create({
    applicationName: s.applicationName ?? 'genix-node-red-iiot',
    ...ownCertificateOptions(id.own),
    clientName: 'genix-opcua-editor',
    endpointMustExist: false,
    securityMode: secure ? (MessageSecurityMode as any)[s.securityMode] : MessageSecurityMode.None,
    securityPolicy: secure ? (SecurityPolicy as any)[s.securityPolicy] : SecurityPolicy.None,
    connectionStrategy: { maxRetry: 0 },
    transportTimeout: s.requestTimeoutMs ?? 10000,
    clientCertificateManager: id.manager,
  } as any);
}

/** Opens a short-lived session with the endpoint's settings, runs fn, closes everything. */
export async function withTransientSession<T>(s: EndpointSettings, id: ClientIdentity, userIdentity: any, fn: (session: ClientSession) => Promise<T>): Promise<T> {
  const client = transientClient(s, id, true);
  try {
    await client.connect(s.endpointUrl);
    const session = await client.createSession(userIdentity);
    try {
      return await fn(session);
    } finally {
      await session.close().catch(() => undefined);
    }
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}

export interface PresentedCertificate {
  der: Buffer;
  thumbprint: string;
  subject: string;
}

/** The certificate the server presents for this endpoint's security settings (read over an unsecured GetEndpoints). */
export async function fetchServerCertificate(s: EndpointSettings, id: ClientIdentity): Promise<PresentedCertificate> {
  const client = transientClient(s, id, false);
  try {
    await client.connect(s.endpointUrl);
    const endpoints = await client.getEndpoints();
    const wanted = endpoints.find((e) => MessageSecurityMode[e.securityMode] === s.securityMode && (e.securityPolicyUri ?? '').endsWith(`#${s.securityPolicy}`))
      ?? endpoints.find((e) => e.serverCertificate && e.serverCertificate.length > 0);
    if (!wanted || !wanted.serverCertificate || wanted.serverCertificate.length === 0) throw new Error('the server presents no certificate');
    const der = firstCertificate(wanted.serverCertificate);
    return { der, thumbprint: certificateThumbprint(der), subject: certificateSubject(der) };
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}
