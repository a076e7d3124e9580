import { expect } from 'chai';
import { migrate, openOrm } from '../../src/persistence/orm.js';
import { migrationsList } from '../../src/persistence/migrations/index.js';
import { emptyDatabase } from '../support/stack.js';

describe('migrations (int)', () => {
  it('apply to an empty database, and then the entities and the schema agree', async () => {
    const orm = await openOrm({ url: await emptyDatabase(), poolMin: 0 });
    try {
      const applied = await migrate(orm);
      expect(applied).to.deep.equal(migrationsList.map((m) => m.name));
      // Anything MikroORM would still change means an entity and the migrations disagree.
      const drift = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      expect(drift.trim(), `entities and migrations disagree:\n${drift}`).to.equal('');
      expect(await migrate(orm), 'a second run applies nothing').to.deep.equal([]);
    } finally {
      await orm.close();
    }
  });
});
