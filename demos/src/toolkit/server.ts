// The frame of a TCP server on the toolkit, for chat and http: a selector,
// the serve loop, the listener with its acceptor and the peer set, wired
// together. A subclass says what a ready peer means (onPeerReady), how a new
// connection is admitted (admit), what happens after each batch (afterBatch)
// and when a peer is dropped (onDrop).
import type { Address, BaseSelector, Ready, Socket } from 'iomux';
import { Acceptor, type AcceptEvent } from './accept';
import { openSelector } from './backend';
import { listen, type Listener } from './listen';
import { ServeLoop } from './loop';
import { type Peer, PeerSet } from './peers';

export interface ServerFrameOptions {
  host: string;
  port: number;
  backend?: string;
  onAcceptEvent?: (e: AcceptEvent) => void;
}

export abstract class ServerFrame<C extends Peer> {
  readonly backend: string;
  readonly address: [string, number];
  protected readonly sel: BaseSelector<C | null>;
  protected readonly loop: ServeLoop<C | null>;
  protected readonly listener: Listener;
  protected readonly acceptor: Acceptor<C | null>;
  protected readonly peers: PeerSet<C>;

  constructor(opts: ServerFrameOptions) {
    this.sel = openSelector<C | null>(opts.backend);
    this.backend = this.sel.backend;
    this.loop = new ServeLoop(this.sel, { onReady: (ready) => this.#dispatch(ready), afterBatch: () => this.afterBatch() });
    this.peers = new PeerSet<C>(this.sel, (c) => this.onDrop(c));
    try {
      this.listener = listen({ host: opts.host, port: opts.port });
    } catch (err) {
      this.sel.close();
      throw err;
    }
    this.acceptor = new Acceptor(this.loop, this.listener.sock, null, (sock, peer) => this.admit(sock, peer), { onEvent: opts.onAcceptEvent });
    this.address = this.listener.address as [string, number];
  }

  /** Closes every socket and the selector. Idempotent. */
  close(): void {
    this.peers.dropAll();
    this.listener.close();
    this.sel.close();
  }

  protected abstract admit(sock: Socket, address: Address): void;
  protected abstract onPeerReady(c: C, mask: number): void;
  protected abstract afterBatch(): void;
  protected abstract onDrop(c: C): void;

  #dispatch(ready: Ready<C | null>): void {
    for (const [key, mask] of ready) {
      if (key.data === null) this.acceptor.onReady();
      else this.onPeerReady(key.data, mask);
    }
  }
}
