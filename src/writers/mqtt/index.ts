// Mqtt: publishes every sample to an MQTT broker, one retained message per series, in the Python
// pollect's topic layout (its `Mqtt` keys load unchanged), with Home Assistant discovery
// messages if asked. The protocol only, on the `mqtt` package's client (imported when the writer
// starts), which reconnects by itself: a write while the broker is unreachable fails and the core
// retries it with its backoff.
import os from 'node:os';
import {
  ParamError,
  Writer,
  type Batch,
  type JsonSchema,
  type Logger,
  type PluginContext,
  type Point,
  type WriterContext,
  type WriterParams,
} from '../../sdk/index.js';
import { clientTlsParam, compileRegex, diskQueueParam, portParam, readClientTls } from '../../sdk/params.js';
import type { IClientOptions, MqttClient } from 'mqtt';

const schema = {
  type: 'object',
  properties: {
    host: { type: 'string', minLength: 1, default: '127.0.0.1', description: "The broker's host name or address" },
    port: { ...portParam, description: "The broker's port (default 1883, 8883 with tls)" },
    user: { type: 'string', minLength: 1, description: 'User name' },
    password: { type: 'string', description: 'Password (with user)' },
    includePattern: {
      type: 'array',
      items: { type: 'string' },
      description: 'Regexes; when given, only topics one of them matches in full are published',
    },
    hassAutodiscovery: { type: 'boolean', default: false, description: 'Publish Home Assistant discovery messages (retained) for each new topic' },
    hassDiscoveryPrefix: { type: 'string', minLength: 1, default: 'homeassistant', description: "Home Assistant's discovery prefix" },
    qos: { enum: [0, 1], default: 0, description: 'QoS of the messages: 0 at most once, 1 at least once (the broker acknowledges each)' },
    retain: { type: 'boolean', default: true, description: 'Publish retained messages (a new subscriber gets the last value at once)' },
    clientId: { type: 'string', minLength: 1, description: 'MQTT client id (default: pollect-<host name>)' },
    keepalive: { type: 'integer', minimum: 5, maximum: 65535, default: 30, description: 'Keep-alive seconds' },
    connectTimeout: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Seconds a connect attempt may take' },
    tls: clientTlsParam('Connect over TLS (PEM files relative to the config file; {} for the system CAs)', 'broker'),
    diskQueue: diskQueueParam,
  },
} as const satisfies JsonSchema;

export type MqttConfig = WriterParams<typeof schema>;

/** The Python pollect's topic of a point: `<collection>.<type>[.<name>][/<value>](/<label>/<value>)*`, lower-cased. */
export function topicOf(p: Point): string {
  const n = p.name;
  let topic = [n.collection, n.source, n.instance].filter(Boolean).join('.');
  if (n.value) topic += `/${n.value}`;
  for (const k in p.labels) topic += `/${k}/${p.labels[k]}`;
  // `+` and `#` are wildcards and NUL is not allowed in a topic a client publishes to.
  return topic.toLowerCase().replace(/[+#\0]/g, '_');
}

export class MqttWriter extends Writer<MqttConfig> {
  static override description = 'Publishes the samples to an MQTT broker (retained, Home Assistant discovery)';
  static override schema = schema;

  private readonly includes: RegExp[];
  private readonly tlsOptions: ReturnType<typeof readClientTls> | undefined;
  private client: MqttClient | undefined;
  /** Why the client is not connected: the last failed connect, or the lost connection. */
  private lastError: string | undefined;
  private log: Logger;
  /** Topics whose discovery message was published on this connection's broker. */
  private readonly discovered = new Set<string>();

  constructor(config: MqttConfig, context?: PluginContext) {
    super(config, context);
    this.log = this.context.log;
    if (config.password !== undefined && config.user === undefined) throw new ParamError('password', 'a password needs a user');
    // Python's re.fullmatch: the whole topic must match.
    this.includes = (config.includePattern ?? []).map((p, i) => compileRegex(`includePattern[${i}]`, `^(?:${p})$`));
    const t = config.tls;
    if (t) this.tlsOptions = readClientTls(this.context, t);
  }

  private get target(): string {
    return `${this.config.host}:${this.port}`;
  }

  private get port(): number {
    return this.config.port ?? (this.tlsOptions ? 8883 : 1883);
  }

  /**
   * Connects, and waits for the first answer: not connecting yet would hide a wrong password until
   * the first tick; failing here would stop pollect for a broker that is only down: said, never fatal.
   */
  override async start(ctx: WriterContext): Promise<void> {
    this.log = ctx.log;
    const { connect } = await import('mqtt');
    const options: IClientOptions = {
      host: this.config.host,
      port: this.port,
      protocol: this.tlsOptions ? 'mqtts' : 'mqtt',
      ...this.tlsOptions,
      clientId: this.config.clientId ?? `pollect-${os.hostname()}`,
      username: this.config.user,
      password: this.config.password,
      keepalive: this.config.keepalive,
      connectTimeout: this.config.connectTimeout * 1000,
      reconnectPeriod: RECONNECT_MS,
      // Offline the core keeps the samples (bounded, counted): the client queues nothing of its own.
      queueQoSZero: false,
    };
    const client = connect(options);
    this.client = client;
    // Discovery messages are retained, but a broker restarted without persistence forgets them.
    client.on('connect', () => {
      this.lastError = undefined;
      this.discovered.clear();
    });
    // After a failed attempt the error came first and says more.
    client.on('close', () => (this.lastError ??= `lost the connection to ${this.target}`));
    client.on('error', (err) => {
      this.lastError = this.reason(err);
      this.log.debug(`writer ${this.id}: ${this.lastError}`);
    });
    const first = await new Promise<boolean>((resolve) => {
      client.once('connect', () => resolve(true));
      client.once('error', () => resolve(false));
      client.once('close', () => resolve(false));
    });
    if (!first) this.log.warn(`writer ${this.id}: ${this.lastError ?? `cannot connect to ${this.target}`}; retrying with each write`);
  }

  private reason(err: Error): string {
    const refused = /^Connection refused: (.*)/.exec(err.message);
    return refused ? `${this.target} refused the connection: ${refused[1]!.toLowerCase()}` : `${this.target}: ${err.message}`;
  }

  /**
   * Publishes each point of the batch as a retained message (and its discovery message, the first
   * time). Throws, and the core retries the whole batch, when the broker is not connected or the
   * connection ends before everything was published: a retained value sent twice is the same value.
   */
  override async write(batch: Batch): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('not started');
    if (!client.connected) {
      // The client stops reconnecting after a refusal (a wrong password): each retry of the core tries again.
      if (!client.reconnecting) client.reconnect();
      throw new Error(this.lastError ?? `not connected to ${this.target} yet`);
    }
    const { qos, retain } = this.config;
    const messages: [topic: string, payload: string, retain: boolean][] = [];
    for (const p of batch.points) {
      const topic = topicOf(p);
      if (this.includes.length > 0 && !this.includes.some((re) => re.test(topic))) continue;
      if (this.config.hassAutodiscovery && !this.discovered.has(topic)) {
        const id = topic.replace(/[^a-zA-Z0-9_-]/g, '_');
        const message = { name: p.name.value ?? p.name.id, unique_id: `pollect_${id}`, state_topic: topic, unit_of_measurement: p.unit };
        messages.push([`${this.config.hassDiscoveryPrefix}/sensor/${id}/config`, JSON.stringify(message), true]);
        this.discovered.add(topic);
      }
      messages.push([topic, String(p.value), retain]);
    }
    try {
      await publishAll(client, messages, qos);
    } catch (err) {
      this.discovered.clear();
      throw new Error(`publishing to ${this.target}: ${(err as Error).message}`);
    }
  }

  /** Disconnects: politely (what was written goes out first) from a connected broker, at once from one that is not. */
  override async stop(): Promise<void> {
    await this.client?.endAsync(!this.client.connected);
  }
}

/** The client's own reconnect interval while the broker is unreachable. */
const RECONNECT_MS = 1000;

/**
 * Publishes the messages; resolves when all were sent (QoS 0) or acknowledged (QoS 1), rejects at
 * the first error or when the connection closes first (the client would resend a QoS 1 message
 * after reconnecting, but the core retries the whole batch then anyway).
 */
function publishAll(client: MqttClient, messages: [string, string, boolean][], qos: 0 | 1): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = messages.length;
    const onClose = () => done(new Error('the connection closed'));
    const done = (err?: Error) => {
      if (left < 0) return;
      if (err || --left === 0) {
        left = -1;
        client.off('close', onClose);
        if (err) reject(err);
        else resolve();
      }
    };
    if (left === 0) return resolve();
    client.on('close', onClose);
    for (const [topic, payload, retain] of messages) client.publish(topic, payload, { qos, retain }, (err) => done(err));
  });
}
