import { expect } from 'chai';
import { formatZkUrl, isZkUrl, parseZkUrl, redact, type ZkUrl, ZkUrlError } from '../../../sdk/zk/url.js';

describe('sdk/zk/url: parseZkUrl', () => {
  const good: Array<[string, ZkUrl]> = [
    ['zk://localhost:2181/agora', { servers: 'localhost:2181', path: '/agora' }],
    ['zk://host1:2181,host2:2182/agora', { servers: 'host1:2181,host2:2182', path: '/agora' }],
    [
      'zk://10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181/mesos',
      { servers: '10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181', path: '/mesos' },
    ],
    ['zk://host1/agora', { servers: 'host1:2181', path: '/agora' }],
    ['zk://host1:2181/agora/', { servers: 'host1:2181', path: '/agora' }],
    ['zk://host1:2181/a/b/c', { servers: 'host1:2181', path: '/a/b/c' }],
    ['ZK://Host1:2181/agora', { servers: 'Host1:2181', path: '/agora' }],
    ['  zk://h:1/x  ', { servers: 'h:1', path: '/x' }],
    ['zk://[::1]:2181/agora', { servers: '[::1]:2181', path: '/agora' }],
    ['zk://[fe80::1]/agora', { servers: '[fe80::1]:2181', path: '/agora' }],
    ['zk://zk-1.example.com:2181,zk_2:2181/agora', { servers: 'zk-1.example.com:2181,zk_2:2181', path: '/agora' }],
    [
      'zk://alice:s3cret@host1:2181,host2:2181/agora',
      {
        servers: 'host1:2181,host2:2181',
        path: '/agora',
        credentials: { scheme: 'digest', username: 'alice', password: 's3cret' },
      },
    ],
    [
      'zk://bob:p%40ss%3Aword@host1:2181/agora',
      {
        servers: 'host1:2181',
        path: '/agora',
        credentials: { scheme: 'digest', username: 'bob', password: 'p@ss:word' },
      },
    ],
  ];
  for (const [input, expected] of good) {
    it(`parses ${JSON.stringify(input)}`, () => {
      expect(parseZkUrl(input)).to.deep.equal(expected);
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['', /must start with 'zk:\/\/'/],
    ['host1:2181/agora', /must start with 'zk:\/\/'/],
    ['http://host1:2181/agora', /must start with 'zk:\/\/'/],
    ['zk://host1:2181', /a path is required/],
    ['zk://host1:2181/', /may not be '\/'/],
    ['zk:///agora', /no servers/],
    ['zk://host1:2181,/agora', /empty server/],
    ['zk://,host1:2181/agora', /empty server/],
    ['zk://host1:abc/agora', /port 'abc'/],
    ['zk://host1:0/agora', /out of range/],
    ['zk://host1:65536/agora', /out of range/],
    ['zk://host1:/agora', /port ''/],
    ['zk://:2181/agora', /has no host/],
    ['zk://ho st:2181/agora', /not a valid host/],
    ['zk://host1:2181:2182/agora', /more than one ':'/],
    ['zk://[::1/agora', /unclosed/],
    ['zk://[nothex]:2181/agora', /not an IPv6/],
    ['zk://host1:2181//agora', /empty segment/],
    ['zk://host1:2181/agora//x', /empty segment/],
    ['zk://host1:2181/agora/../x', /'\.\.' is not allowed/],
    ['zk://host1:2181/agora?x=1', /query strings/],
    ['zk://host1:2181/zookeeper', /reserved/],
    ['zk://host1:2181/a b', /unsupported characters/],
    ['zk://alice@host1:2181/agora', /user:password/],
    ['zk://:pw@host1:2181/agora', /user:password/],
    ['zk://alice:@host1:2181/agora', /non-empty/],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      let caught: unknown;
      try {
        parseZkUrl(input);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(ZkUrlError);
      expect((caught as ZkUrlError).code).to.equal('AGORA_ZK_BAD_URL');
      expect((caught as Error).message).to.match(message);
    });
  }

  it('never puts the password into an error message', () => {
    expect(() => parseZkUrl('zk://alice:hunter2@host1:2181'))
      .to.throw(ZkUrlError)
      .with.property('message')
      .that.does.not.include('hunter2');
  });

  it('keeps every part of a password out of the error of a malformed URL', () => {
    // A raw '/' in the password cuts the URL short: the pieces it leaves must not be echoed.
    for (const [url, secret] of [
      ['zk://alice:qz/xv99@host1:2181/agora', 'qz/xv99'],
      ['zk://alice:12345/x@host1:2181/agora', '12345'],
      ['zk://alice:p@zq:w0rd@host1:99999/agora', 'zq:w0rd'],
    ]) {
      let message = '';
      try {
        parseZkUrl(url);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, url).to.match(/bad ZooKeeper URL/);
      for (const piece of [secret, ...secret.split(/[/:@]/).filter((p) => p.length > 1)])
        expect(message, `${url} leaks '${piece}'`).to.not.include(piece);
    }
  });

  it('redacts the whole password, also one holding @, / or a space, and inside longer text', () => {
    const cases: Array<[string, string]> = [
      ['zk://alice:s3cret@h1:2181/agora', 'zk://alice:***@h1:2181/agora'],
      ['zk://alice:p@ss@h1:2181/agora', 'zk://alice:***@h1:2181/agora'],
      ['zk://alice:pa/ss@h1:2181/agora', 'zk://alice:***@h1:2181/agora'],
      ['zk://alice:pa ss@h1:2181/agora', 'zk://alice:***@h1:2181/agora'],
      ['zk://h1:2181/agora', 'zk://h1:2181/agora'],
      ['--zk zk://alice:s3cret@h1/agora --quorum 2', '--zk zk://alice:***@h1/agora --quorum 2'],
      ["'zk://alice:s3cret@h1/a' and zk://bob:x@y@h2/b", "'zk://alice:***@h1/a' and zk://bob:***@h2/b"],
    ];
    for (const [input, out] of cases) expect(redact(input), input).to.equal(out);
  });

  it('recognises zk URLs and formats them back, hiding the password unless asked', () => {
    expect(isZkUrl('zk://h:1/x')).to.equal(true);
    expect(isZkUrl('h:5050')).to.equal(false);
    const u = parseZkUrl('zk://alice:s3cret@h1:2181,h2/agora');
    expect(formatZkUrl(u)).to.equal('zk://alice:***@h1:2181,h2:2181/agora');
    expect(formatZkUrl(u, true)).to.equal('zk://alice:s3cret@h1:2181,h2:2181/agora');
    expect(parseZkUrl(formatZkUrl(u, true))).to.deep.equal(u);
    expect(redact('zk://alice:s3cret@h1:2181/agora')).to.equal('zk://alice:***@h1:2181/agora');
  });
});
