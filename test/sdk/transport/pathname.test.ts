import { expect } from 'chai';
import { pathnameOf } from '../../../sdk/transport/server.js';

describe('transport: the path of an upgrade request', () => {
  it('reads what the URL parser would, the plain paths without it', () => {
    const cases = [
      '/api/v1/agent',
      '/api/v1/agent?x=1',
      '/api/v1/scheduler/ws#f',
      '/a/../api/v1/agent',
      '/api/v1/./agent',
      '/api/v1/%61gent',
      '//evil/api/v1/agent',
      'http://host:5050/api/v1/agent?q',
      '',
      '*',
      '/api/v1/agent\\x',
    ];
    for (const url of cases) {
      expect(pathnameOf(url), url).to.equal(new URL(url, 'http://localhost').pathname);
    }
    expect(pathnameOf(undefined)).to.equal('/');
  });
});
