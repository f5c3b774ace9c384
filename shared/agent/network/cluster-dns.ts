import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DnsRecords } from './dns-records.js';

/**
 * The node's cluster DNS server (CoreDNS' role, on every node, no server elsewhere): UDP and TCP on
 * the cluster DNS address, answering the cluster domain from the Services the agent holds and
 * forwarding every other name to the node's resolvers. Wire format by dns-packet.
 */

const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const FORWARD_TIMEOUT_MS = 2000;
/** Forwarded queries in flight at once: beyond it a query is answered SERVFAIL rather than queued without bound. */
const MAX_FORWARDS = 256;

export interface ClusterDnsOptions {
  address: string;
  port: number;
  /** Resolvers for names outside the cluster domain (ip or ip:port); none: SERVFAIL. */
  upstreams: string[];
  records: () => DnsRecords;
  log?: (msg: string) => void;
}

export class ClusterDns {
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private forwards = 0;
  /** Answered queries, for the benchmark. */
  readonly stats = { queries: 0, forwarded: 0 };

  constructor(private readonly o: ClusterDnsOptions) {}

  async start(): Promise<void> {
    // Port 0 (tests) picks the UDP port, whose number TCP may find taken: pick again.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.listen();
      } catch (e) {
        if (this.o.port !== 0 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw e;
        await this.close();
      }
    }
  }

  private async listen(): Promise<void> {
    const udp = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    udp.on('message', (msg, rinfo) => {
      // A socket closed while a forward was out (a reconfiguration) drops that answer, nothing more.
      this.answer(msg, 'udp')
        .then((out) => {
          if (out && this.udp === udp) udp.send(out, rinfo.port, rinfo.address);
        })
        .catch((e: unknown) => this.o.log?.(`cluster DNS: ${String(e)}`));
    });
    udp.on('error', (e) => this.o.log?.(`cluster DNS (udp): ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.o.port, this.o.address, () => (udp.off('error', reject), resolve()));
    });
    this.udp = udp;
    const tcp = net.createServer((socket) => this.serveTcp(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.port, this.o.address, () => (tcp.off('error', reject), resolve()));
    });
    this.tcp = tcp;
  }

  /** The port it answers on (port 0 asks the system for one, for tests). */
  get port(): number {
    return this.udp?.address().port ?? this.o.port;
  }

  async close(): Promise<void> {
    const udp = this.udp;
    this.udp = undefined;
    udp?.close();
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
  }

  /** TCP carries each message after a two-byte length (RFC 1035 §4.2.2). */
  private serveTcp(socket: net.Socket) {
    let buffered = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const msg = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        this.answer(msg, 'tcp')
          .then((out) => {
            if (!out || socket.destroyed) return;
            const framed = Buffer.alloc(2 + out.length);
            framed.writeUInt16BE(out.length, 0);
            out.copy(framed, 2);
            socket.write(framed);
          })
          .catch(() => socket.destroy());
      }
    });
  }

  /**
   * The response to one query message, or undefined for what is not a query. Over UDP it fits the
   * client's buffer (512 bytes, or what its EDNS record offers): additional records go first, then the
   * answers with the TC flag set, and the client asks again over TCP (RFC 1035 §4.2.1, RFC 6891).
   */
  async answer(msg: Buffer, transport: 'udp' | 'tcp' = 'udp'): Promise<Buffer | undefined> {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    if (query.type !== 'query') return undefined;
    this.stats.queries++;
    const question = query.questions?.[0];
    const opt = (query.additionals ?? []).find((r) => r.type === 'OPT');
    const offered = opt && 'udpPayloadSize' in opt ? Number(opt.udpPayloadSize) : 512;
    const limit = transport === 'tcp' ? 65535 : Math.max(512, Math.min(offered, 4096));
    const reply = (rcode: number, answers: Answer[] = [], additionals: Answer[] = []) => {
      const encode = (an: Answer[], ad: Answer[], truncated: boolean) =>
        dnsPacket.encode({
          type: 'response',
          id: query.id,
          flags:
            dnsPacket.AUTHORITATIVE_ANSWER |
            dnsPacket.RECURSION_AVAILABLE |
            ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) |
            (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
            rcode,
          questions: query.questions,
          answers: an.map(toRecord),
          additionals: ad.map(toRecord),
        });
      const full = encode(answers, additionals, false);
      if (full.length <= limit) return full;
      const lean = encode(answers, [], false);
      return lean.length <= limit ? lean : encode([], [], true);
    };
    if (!question) return reply(SERVFAIL);
    const found = this.o.records().lookup(question.name, question.type);
    if (found.kind === 'answer') return reply(NOERROR, found.answers, found.additionals);
    if (found.kind === 'nxdomain') return reply(NXDOMAIN);
    const forwarded = await this.forward(msg);
    return forwarded ?? reply(SERVFAIL);
  }

  private async forward(msg: Buffer): Promise<Buffer | undefined> {
    if (!this.o.upstreams.length || this.forwards >= MAX_FORWARDS) return undefined;
    this.forwards++;
    this.stats.forwarded++;
    try {
      for (const upstream of this.o.upstreams) {
        const [host, port] = upstream.split(':');
        const answer = await udpExchange(msg, host ?? upstream, Number(port ?? 53));
        if (answer) return answer;
      }
      return undefined;
    } finally {
      this.forwards--;
    }
  }
}

function udpExchange(msg: Buffer, host: string, port: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const done = (answer: Buffer | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS);
    socket.on('message', (answer) => done(answer));
    socket.on('error', () => done(undefined));
    socket.send(msg, port, host);
  });
}

function toRecord(a: Answer): dnsPacket.Answer {
  return { name: a.name, type: a.type, ttl: a.ttl, class: 'IN', data: a.data } as dnsPacket.Answer;
}
