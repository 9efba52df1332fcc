// Noise_NNpsk0_25519_ChaChaPoly_SHA256, the handshake and transport encryption of ESPHome's native
// API (https://noiseprotocol.org/noise.html, revision 34), on node:crypto: X25519, ChaCha20-Poly1305
// and HMAC-SHA256. No npm library fits: noise-handshake and noise-protocol hash with BLAKE2b only,
// and @chainsafe/libp2p-noise does the XX pattern only.
//
// NNpsk0:  -> psk, e
//          <- e, ee
// Both roles are here: the initiator is the source's, the responder a device's (the tests' emulator).
import { createCipheriv, createDecipheriv, createHash, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';

const PROTOCOL_NAME = 'Noise_NNpsk0_25519_ChaChaPoly_SHA256';
const DHLEN = 32;
const TAGLEN = 16;
/** Noise's limit of one message, and so of one ESPHome frame. */
export const MAX_NOISE_MESSAGE = 65535;

export class NoiseError extends Error {
  override name = 'NoiseError';
}

/** A ChaCha20-Poly1305 key with its message counter (Noise's CipherState). */
export class CipherState {
  private n = 0n;
  constructor(private readonly k: Buffer) {}

  encrypt(plaintext: Buffer, ad: Buffer = Buffer.alloc(0)): Buffer {
    const c = createCipheriv('chacha20-poly1305', this.k, this.nonce(), { authTagLength: TAGLEN });
    c.setAAD(ad, { plaintextLength: plaintext.length });
    const out = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
    this.n++;
    return out;
  }

  decrypt(ciphertext: Buffer, ad: Buffer = Buffer.alloc(0)): Buffer {
    if (ciphertext.length < TAGLEN) throw new NoiseError('encrypted message shorter than its tag');
    const d = createDecipheriv('chacha20-poly1305', this.k, this.nonce(), { authTagLength: TAGLEN });
    d.setAAD(ad, { plaintextLength: ciphertext.length - TAGLEN });
    d.setAuthTag(ciphertext.subarray(ciphertext.length - TAGLEN));
    let out: Buffer;
    try {
      out = Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - TAGLEN)), d.final()]);
    } catch {
      throw new NoiseError('message authentication failed');
    }
    this.n++;
    return out;
  }

  /** 32 bits of zeros, then the counter as 64-bit little-endian. */
  private nonce(): Buffer {
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64LE(this.n, 4);
    return nonce;
  }
}

function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function hmac(key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Noise's HKDF: `count` 32-byte outputs. */
function hkdf(ck: Buffer, ikm: Buffer, count: 2 | 3): Buffer[] {
  const temp = hmac(ck, ikm);
  const out1 = hmac(temp, Buffer.from([1]));
  const out2 = hmac(temp, out1, Buffer.from([2]));
  return count === 2 ? [out1, out2] : [out1, out2, hmac(temp, out2, Buffer.from([3]))];
}

interface KeyPair {
  privateKey: KeyObject;
  publicKey: Buffer;
}

function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { privateKey, publicKey: Buffer.from(jwk.x!, 'base64url') };
}

function dh(own: KeyPair, remotePublic: Buffer): Buffer {
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: remotePublic.toString('base64url') }, format: 'jwk' });
  return diffieHellman({ privateKey: own.privateKey, publicKey });
}

/** The two transport ciphers once the handshake is done. */
export interface TransportCiphers {
  send: CipherState;
  receive: CipherState;
}

/** One side of an NNpsk0 handshake. */
export class NoiseHandshake {
  private ck: Buffer;
  private h: Buffer;
  private k: CipherState | undefined;
  private readonly e: KeyPair;
  private re: Buffer | undefined;

  constructor(
    private readonly initiator: boolean,
    private readonly psk: Buffer,
    prologue: Buffer,
  ) {
    if (psk.length !== 32) throw new NoiseError('the pre-shared key must be 32 bytes');
    const name = Buffer.from(PROTOCOL_NAME);
    this.h = name.length <= 32 ? Buffer.concat([name, Buffer.alloc(32 - name.length)]) : sha256(name);
    this.ck = this.h;
    this.mixHash(prologue);
    this.e = generateKeyPair();
  }

  /** The initiator's message: psk, e, and an empty payload. */
  writeMessage1(): Buffer {
    this.expectRole(true);
    this.mixKeyAndHash(this.psk);
    const e = this.writeE();
    return Buffer.concat([e, this.encryptAndHash(Buffer.alloc(0))]);
  }

  /** The responder reads the initiator's message (throws NoiseError on a wrong key or a bad message). */
  readMessage1(msg: Buffer): void {
    this.expectRole(false);
    if (msg.length < DHLEN + TAGLEN) throw new NoiseError(`handshake message of ${msg.length} bytes is too short`);
    this.mixKeyAndHash(this.psk);
    this.readE(msg.subarray(0, DHLEN));
    this.decryptAndHash(msg.subarray(DHLEN));
  }

  /** The responder's message: e, ee, and an empty payload. */
  writeMessage2(): Buffer {
    this.expectRole(false);
    const e = this.writeE();
    this.mixKey(dh(this.e, this.re!));
    return Buffer.concat([e, this.encryptAndHash(Buffer.alloc(0))]);
  }

  readMessage2(msg: Buffer): void {
    this.expectRole(true);
    if (msg.length < DHLEN + TAGLEN) throw new NoiseError(`handshake message of ${msg.length} bytes is too short`);
    this.readE(msg.subarray(0, DHLEN));
    this.mixKey(dh(this.e, this.re!));
    this.decryptAndHash(msg.subarray(DHLEN));
  }

  /** The transport ciphers: the initiator sends with the first key, the responder with the second. */
  split(): TransportCiphers {
    const [k1, k2] = hkdf(this.ck, Buffer.alloc(0), 2) as [Buffer, Buffer];
    const a = new CipherState(k1);
    const b = new CipherState(k2);
    return this.initiator ? { send: a, receive: b } : { send: b, receive: a };
  }

  private expectRole(initiator: boolean): void {
    if (this.initiator !== initiator) throw new NoiseError(`not a step of the ${this.initiator ? 'initiator' : 'responder'}`);
  }

  private writeE(): Buffer {
    this.mixHash(this.e.publicKey);
    // In a psk handshake `e` is mixed into the key too.
    this.mixKey(this.e.publicKey);
    return this.e.publicKey;
  }

  private readE(pub: Buffer): void {
    this.re = Buffer.from(pub);
    this.mixHash(this.re);
    this.mixKey(this.re);
  }

  private mixHash(data: Buffer): void {
    this.h = sha256(this.h, data);
  }

  private mixKey(ikm: Buffer): void {
    const [ck, k] = hkdf(this.ck, ikm, 2) as [Buffer, Buffer];
    this.ck = ck;
    this.k = new CipherState(k);
  }

  private mixKeyAndHash(ikm: Buffer): void {
    const [ck, th, k] = hkdf(this.ck, ikm, 3) as [Buffer, Buffer, Buffer];
    this.ck = ck;
    this.mixHash(th);
    this.k = new CipherState(k);
  }

  private encryptAndHash(plaintext: Buffer): Buffer {
    const c = this.k!.encrypt(plaintext, this.h);
    this.mixHash(c);
    return c;
  }

  private decryptAndHash(ciphertext: Buffer): Buffer {
    const p = this.k!.decrypt(ciphertext, this.h);
    this.mixHash(ciphertext);
    return p;
  }
}

/** ESPHome's `encryption.key`: base64 of 32 bytes. Throws with the length only, never the key. */
export function decodePsk(psk: string): Buffer {
  const bytes = Buffer.from(psk.trim(), 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(psk.trim()) || bytes.length !== 32) {
    throw new NoiseError(`not a base64-encoded 32-byte key (${psk.length} characters)`);
  }
  return bytes;
}
