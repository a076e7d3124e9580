import { expect } from 'chai';
import { openOrm } from '../../src/persistence/orm.js';
import { freshDatabase } from '../support/stack.js';

describe('entities and migrations (int)', () => {
  it('agree: the schema generator finds nothing to change after the migrations', async () => {
    const orm = await openOrm({ url: await freshDatabase(), poolMin: 0, poolMax: 2 });
    try {
      const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      expect(diff.trim()).to.equal('');
    } finally {
      await orm.close();
    }
  });
});
