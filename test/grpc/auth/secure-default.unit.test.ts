import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { Policy } from '../../../src/grpc/auth/policy.js';
import { certificateIdentity } from '../../../src/grpc/auth/identity.js';
import { API_METHODS } from '../../../src/grpc/server.js';

const refusal = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('secure by default (unit)', () => {
  it('plaintext without authentication is fine on a loopback address (the make run default)', () => {
    expect(loadConfig({}).security).to.include({ authenticationOn: false, allowInsecure: false, tls: undefined });
    expect(loadConfig({ GRPC_HOST: '::1' }).security.authenticationOn).to.equal(false);
  });

  it('refuses a network address without TLS and authentication, naming the settings', () => {
    expect(refusal({ GRPC_HOST: '0.0.0.0' })).to.equal(
      'invalid configuration: GRPC_HOST=0.0.0.0 is not a loopback address, and the server has no TLS (TLS_CERT_FILE, TLS_KEY_FILE) and authentication (TLS_CLIENT_CA_FILE or AUTH_JWT_*, with AUTH_POLICY_FILE); refusing to serve plaintext or anonymous calls to the network. Set them, or ALLOW_INSECURE=true when a sidecar terminates mutual TLS',
    );
    // TLS alone is not enough: anyone could still call anything.
    expect(refusal({ GRPC_HOST: '10.1.2.3', TLS_CERT_FILE: 's.crt', TLS_KEY_FILE: 's.key' })).to.match(/has no authentication \(/);
  });

  it('ALLOW_INSECURE=true says so explicitly', () => {
    expect(loadConfig({ GRPC_HOST: '0.0.0.0', ALLOW_INSECURE: 'true' }).security.allowInsecure).to.equal(true);
  });

  it('TLS with mutual TLS and a policy may bind any address', () => {
    const c = loadConfig({ GRPC_HOST: '0.0.0.0', TLS_CERT_FILE: 's.crt', TLS_KEY_FILE: 's.key', TLS_CLIENT_CA_FILE: 'ca.crt', AUTH_POLICY_FILE: 'p.yaml' });
    expect(c.security.authenticationOn).to.equal(true);
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ TLS_CERT_FILE: 's.crt' }, /TLS_CERT_FILE and TLS_KEY_FILE go together/],
    [{ TLS_CLIENT_CA_FILE: 'ca.crt' }, /TLS_CLIENT_CA_FILE \(mutual TLS\) needs TLS_CERT_FILE/],
    [{ AUTH_JWT_JWKS: 'j.json' }, /missing AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE/],
    [{ AUTH_JWT_JWKS: 'j.json', AUTH_JWT_ISSUER: 'i', AUTH_JWT_AUDIENCE: 'a' }, /AUTH_POLICY_FILE is not set/],
    [{ AUTH_POLICY_FILE: 'p.yaml' }, /no caller is identified/],
    [{ AUTH_JWT_ALGORITHMS: 'none' }, /AUTH_JWT_ALGORITHMS=.*never none, never HMAC/],
    [{ AUTH_JWT_ALGORITHMS: 'RS256,HS256' }, /AUTH_JWT_ALGORITHMS/],
    [{ AUTH_JWT_JWKS: 'http://keys.example/jwks', AUTH_JWT_ISSUER: 'i', AUTH_JWT_AUDIENCE: 'a', AUTH_POLICY_FILE: 'p' }, /must be https:\/\//],
    [{ REFLECTION: 'authenticated' }, /REFLECTION=authenticated needs authentication/],
    [{ REFLECTION: 'sometimes' }, /REFLECTION=/],
  ];
  for (const [env, message] of bad) {
    it(`refuses ${JSON.stringify(env)}`, () => expect(refusal(env)).to.match(message));
  }
});

describe('identity and policy (unit)', () => {
  it('a certificate names its URI SAN, else its first DNS SAN, else its CN', () => {
    const peer = (subjectaltname: string | undefined, CN = 'the-cn') => ({ subjectaltname, subject: { CN } }) as never;
    expect(certificateIdentity(peer('DNS:a.test, URI:spiffe://corp/ns/orders/sa/checkout'))).to.equal('spiffe://corp/ns/orders/sa/checkout');
    expect(certificateIdentity(peer('IP Address:127.0.0.1, DNS:b.test, DNS:c.test'))).to.equal('b.test');
    expect(certificateIdentity(peer(undefined))).to.equal('the-cn');
    expect(certificateIdentity(peer('URI:"spiffe://corp/odd,name"'))).to.equal('spiffe://corp/odd,name');
  });

  it('identities match exactly or by glob; roles add up', () => {
    const p = Policy.of(
      {
        identities: [
          { identity: 'spiffe://corp/ns/orders/**', roles: ['allocator'] },
          { identity: 'spiffe://corp/ns/orders/sa/checkout', roles: ['auditor'] },
          { identity: 'ops', roles: ['admin'] },
        ],
      },
      API_METHODS,
    );
    expect(p.rolesOf('spiffe://corp/ns/orders/sa/checkout')).to.deep.equal(['allocator', 'auditor']);
    expect(p.rolesOf('spiffe://corp/ns/ordersX/sa/checkout')).to.deep.equal([]);
    expect(p.rolesOf('ops')).to.deep.equal(['admin']);
    expect(p.rolesOf('ops2')).to.deep.equal([]);
    expect(p.allows(['allocator'], 'inventory.v1.InventoryService/AllocateStock')).to.equal(true);
    expect(p.allows(['allocator'], 'inventory.v1.InventoryService/AdjustStock')).to.equal(false);
  });

  it('a policy error names the entry', () => {
    const error = (doc: unknown) => {
      try {
        Policy.of(doc, API_METHODS, 'p.yaml');
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(error({ identities: [{ identity: 'a', roles: [] }] })).to.match(/^p\.yaml: identities\[0\]\.roles: /);
    expect(error({ identities: [{ identity: 'a', roles: ['reader'], extra: 1 }] })).to.match(/^p\.yaml: identities\[0\]: /);
    expect(error({ identities: [{ identity: 'a', roles: ['admin'] }], roles: { admin: ['inventory.v1.InventoryService/GetItem'] } })).to.equal(
      'p.yaml: roles.admin: a built-in role cannot be redefined',
    );
  });
});
