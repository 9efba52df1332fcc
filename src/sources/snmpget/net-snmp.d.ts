// The part of net-snmp (plain JavaScript, no bundled types) that the SnmpGet source uses.
declare module 'net-snmp' {
  export interface Varbind {
    oid: string;
    type: number;
    value: unknown;
  }
  export interface SessionOptions {
    port?: number;
    retries?: number;
    timeout?: number;
    transport?: 'udp4' | 'udp6';
    version?: number;
    idBitsSize?: 16 | 32;
    /** Stands in for node:dgram (its createSocket). */
    dgramModule?: { createSocket(type: string): unknown };
  }
  export interface User {
    name: string;
    level: number;
    authProtocol?: number;
    authKey?: string;
    privProtocol?: number;
    privKey?: string;
  }
  export interface Session {
    get(oids: string[], cb: (error: Error | null, varbinds?: Varbind[]) => void): Session;
    close(): Session;
    cancelRequests(error: Error): void;
    on(event: 'error' | 'close', listener: (err?: Error) => void): Session;
  }
  export interface NetSnmp {
    createSession(target: string, community: string, options?: SessionOptions): Session;
    createV3Session(target: string, user: User, options?: SessionOptions): Session;
    isVarbindError(vb: Varbind): boolean;
    Version1: number;
    Version2c: number;
    Version3: number;
    ObjectType: Record<string, number>;
    ErrorStatus: Record<string, number>;
    SecurityLevel: Record<string, number>;
    AuthProtocols: Record<string, number>;
    PrivProtocols: Record<string, number>;
  }
  const snmp: NetSnmp;
  export default snmp;
}
