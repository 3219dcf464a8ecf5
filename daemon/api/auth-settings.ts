import { z } from 'zod';

/**
 * The signature algorithms an issuer may be trusted with: asymmetric ones only. A symmetric
 * algorithm (HS256, …) would let anyone who holds the verification key sign tokens, and is the way
 * into key confusion, where an HMAC "secret" is the issuer's public key (RFC 8725 §2.1, §3.1).
 */
export const asymmetricAlgorithms = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
export type AsymmetricAlgorithm = (typeof asymmetricAlgorithms)[number];

const loopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);
const publicKeyTypes = ['OKP', 'EC', 'RSA'];
/** JWK members that only a private key has. */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

/** A verification key: PEM text (SPKI or certificate), the path of a PEM file, or a public JWK. */
const publicKeySchema = z
  .union([z.string(), z.record(z.string(), z.unknown())], { error: 'expected PEM text, the path of a PEM file, or a JWK object' })
  .superRefine((key, ctx) => {
    if (typeof key === 'string') {
      if (key.trim() === '') ctx.addIssue({ code: 'custom', message: 'empty: give PEM text or the path of a PEM file' });
      return;
    }
    if (typeof key['kty'] !== 'string' || !publicKeyTypes.includes(key['kty'])) {
      ctx.addIssue({ code: 'custom', path: ['kty'], message: `must be ${publicKeyTypes.join(', ')}: symmetric keys (oct) are refused` });
    }
    const secret = privateMembers.filter((m) => m in key);
    if (secret.length > 0) ctx.addIssue({ code: 'custom', path: [secret[0] as string], message: 'a private key: give the public half only' });
  });
export type PublicKeySetting = z.output<typeof publicKeySchema>;

/** One issuer of bearer tokens the daemon trusts. */
export const issuerSettingsSchema = z
  .strictObject({
    /** The `iss` claim its tokens carry, exactly. */
    issuer: z.string().min(1),
    /** The `aud` the tokens must name: this daemon's identifier at that issuer. */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Where the issuer publishes its keys (a JWK Set); fetched when a token needs it, cached, refetched for an unknown `kid`. */
    jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Static verification keys, instead of `jwksUrl`. */
    keys: z.array(publicKeySchema).min(1).optional(),
    /** @default every asymmetric algorithm */
    algorithms: z.array(z.enum(asymmetricAlgorithms, { error: `must be one of ${asymmetricAlgorithms.join(', ')}: symmetric algorithms and "none" are refused` })).min(1).default([...asymmetricAlgorithms]),
    /**
     * The roles this issuer's tokens may grant (`admin`, `steward:UVA`; `steward:*` for every
     * steward); others its tokens claim are ignored. Required when several issuers are trusted,
     * so one organisation's identity provider cannot make its users another's steward.
     * @default every role, with a single issuer
     */
    grantsRoles: z.array(z.string().min(1)).optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.jwksUrl === undefined) === (s.keys === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['jwksUrl'], message: 'give either jwksUrl or keys (exactly one)' });
    }
    if (s.jwksUrl !== undefined) {
      const url = new URL(s.jwksUrl);
      if (url.protocol === 'http:' && !loopbackHosts.has(url.hostname)) {
        ctx.addIssue({ code: 'custom', path: ['jwksUrl'], message: 'use https: keys fetched over plain HTTP can be replaced on the way (http is allowed on loopback only)' });
      }
    }
  });
export type IssuerSettings = z.output<typeof issuerSettingsSchema>;

/**
 * Who may call the daemon: verified requesters (docs/designs/007-verified-requesters.md). With no
 * issuer configured, the daemon runs its own local issuer (key in the keys directory).
 */
export const authSettingsSchema = z.strictObject({
  /** Trusted token issuers; empty: the local issuer `dynamos-local` only. */
  issuers: z
    .array(issuerSettingsSchema)
    .default([])
    .superRefine((issuers, ctx) => {
      issuers.forEach((s, i) => {
        if (issuers.findIndex((o) => o.issuer === s.issuer) !== i) ctx.addIssue({ code: 'custom', path: [i, 'issuer'], message: `"${s.issuer}" is listed twice` });
        if (issuers.length > 1 && s.grantsRoles === undefined) {
          ctx.addIssue({ code: 'custom', path: [i, 'grantsRoles'], message: 'with several issuers, say which roles each may grant (e.g. [steward:UVA], or [] for none)' });
        }
      });
    }),
  /** Leeway for `exp`, `nbf` and `iat` between the issuer's clock and ours. */
  clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  /** The claim that names the user; it must equal the body's `user.userName`. */
  userClaim: z.string().min(1).default('sub'),
  /** The claim with the roles (`admin`, `steward:<Name>`): an array of strings, or one space-separated string. */
  rolesClaim: z.string().min(1).default('roles'),
  /**
   * The original's behaviour, for experiments only: a request without a credential is believed to
   * come from its body's `user.userName`. Logged as a warning at start and shown by `/healthz`.
   */
  trustBodyUserName: z.boolean().default(false),
});
export type AuthSettings = z.output<typeof authSettingsSchema>;

/**
 * HTTPS for the listener. With `clientCaFile`, clients may present a certificate signed by that
 * CA: its subject CN is the identity and its O values are the roles.
 */
export const tlsSettingsSchema = z.strictObject({
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
  clientCaFile: z.string().min(1).optional(),
});
export type TlsSettings = z.output<typeof tlsSettingsSchema>;
