// What the subscription and cyclic-read code needs from the session manager: the live connection,
// the settings, and the manager's reading, loss and log paths.
import type { OPCUAClient, ClientSession, DataValue } from 'node-opcua-client';
import type { EndpointSettings } from './connect-options';
import type { ItemGroup, ItemState } from './item-group';

export type ManagerSettings = Required<Pick<EndpointSettings, 'sessionTimeoutMs' | 'keepAliveMs' | 'watchdogMs' | 'backoffMinMs' | 'backoffMaxMs' | 'requestTimeoutMs'>> & EndpointSettings;

export interface Connection {
  client: OPCUAClient;
  session?: ClientSession;
  namespaceArray: string[];
  dead: boolean;
  /** resolves when the connection is given up (rebuild needed) */
  broken: Promise<string>;
  breakWith(reason: string): void;
  lostAt?: number;
  backoffCount: number;
}

export interface GroupHost {
  readonly settings: ManagerSettings;
  /** conn is the manager's current connection, not given up and not being repaired */
  usable(conn: Connection): boolean;
  /** g is still registered (its poller was not removed) */
  registered(g: ItemGroup): boolean;
  onData(g: ItemGroup, it: ItemState, dv: DataValue): void;
  /** one bad reading per item of these groups (all when omitted) that has not reported a loss yet */
  reportLoss(statusCode: string, groups?: Iterable<ItemGroup>): void;
  /** the connection answered (keeps the connection watchdog quiet) */
  touchFrom(conn: Connection): void;
  log(level: 'info' | 'warn' | 'error', m: string): void;
}
