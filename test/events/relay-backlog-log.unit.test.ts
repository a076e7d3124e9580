import { expect } from 'chai';
import { BACKLOG_WARN_AGE_MS, backlogLogLevel } from '../../src/events/relay.js';

describe('the relay backlog line (unit)', () => {
  it('is info while the backlog is the relay at work, warn once its oldest event has waited 10 s', () => {
    expect(backlogLogLevel({ count: 0, oldestAgeMs: 0 })).to.equal('info');
    // Under a steady write load: events in flight, lingering, or appended and not yet marked.
    expect(backlogLogLevel({ count: 40, oldestAgeMs: 35 })).to.equal('info');
    expect(backlogLogLevel({ count: 1, oldestAgeMs: BACKLOG_WARN_AGE_MS - 1 })).to.equal('info');
    // DynamoDB failing or throttling: the oldest event stays behind.
    expect(backlogLogLevel({ count: 1, oldestAgeMs: BACKLOG_WARN_AGE_MS })).to.equal('warn');
    expect(backlogLogLevel({ count: 5000, oldestAgeMs: 120_000 })).to.equal('warn');
  });
});
