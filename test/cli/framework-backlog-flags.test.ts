/** `agora master --framework_backlog_*`: the backpressure on framework connections, from the command line. */
import { expect } from 'chai';
import { pino } from 'pino';
import { masterCommand, masterOptionsFromFlags } from '../../cli/daemons.js';
import { parseFlags } from '../../cli/flags.js';

const silent = pino({ level: 'silent' });
const options = (...argv: string[]) => masterOptionsFromFlags(parseFlags(masterCommand, argv), silent);

describe('agora master: framework connection backpressure flags', () => {
  it('defaults: 1 MiB high water, 64 MiB bound, 60 s stall', () => {
    expect(options().schedulerBackpressure).to.deep.equal({
      highWaterBytes: 1024 * 1024,
      maxBufferedBytes: 64 * 1024 * 1024,
      stallTimeoutMs: 60_000,
    });
  });

  it('takes the three flags', () => {
    expect(
      options(
        '--framework_backlog_high_water',
        '65536',
        '--framework_backlog_max',
        '1048576',
        '--framework_stall_timeout',
        '5secs',
      ).schedulerBackpressure,
    ).to.deep.equal({ highWaterBytes: 65536, maxBufferedBytes: 1048576, stallTimeoutMs: 5000 });
  });

  it('refuses a bound at or below the high water, tiny values and non-numbers, saying which flag', () => {
    expect(() => options('--framework_backlog_max', '1048576')).to.throw(/--framework_backlog_max must be above/);
    expect(() => options('--framework_backlog_high_water', '10')).to.throw(/at least 1024/);
    expect(() => options('--framework_backlog_high_water', '1e400')).to.throw(/--framework_backlog_high_water/);
    expect(() => options('--framework_stall_timeout', '10ms')).to.throw(/--framework_stall_timeout/);
  });
});
