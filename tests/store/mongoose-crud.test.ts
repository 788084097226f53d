import mongoose from 'mongoose';
import type { Connection, Model } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, uniqueDbName } from './helpers.js';
import type { TestStore } from './helpers.js';

interface Item {
  name: string;
  qty: number;
  tags: string[];
  group?: string;
}

interface Counter {
  key: string;
  n: number;
  log: string[];
  label?: string;
  createdBy?: string;
}

interface Message {
  roomId: string;
  clientId?: string;
  seq: number;
}

let store: TestStore;
let conn: Connection;
let Items: Model<Item>;
let Counters: Model<Counter>;
let Messages: Model<Message>;

beforeAll(async () => {
  store = await openTestStore();
  const dbName = uniqueDbName('mongoose_crud');
  conn = await mongoose.createConnection(store.url(dbName), { serverSelectionTimeoutMS: 5000 }).asPromise();
  Items = conn.model<Item>(
    'Item',
    new mongoose.Schema<Item>({
      name: { type: String, required: true, unique: true },
      qty: Number,
      tags: [String],
      group: String,
    }),
  );
  Counters = conn.model<Counter>(
    'Counter',
    new mongoose.Schema<Counter>({ key: String, n: Number, log: [String], label: String, createdBy: String }),
  );
  const messageSchema = new mongoose.Schema<Message>({ roomId: String, clientId: String, seq: Number });
  messageSchema.index({ roomId: 1, seq: 1 }, { unique: true });
  messageSchema.index(
    { roomId: 1, clientId: 1 },
    { unique: true, partialFilterExpression: { clientId: { $exists: true } } },
  );
  Messages = conn.model<Message>('Message', messageSchema);
  await Promise.all([Items.init(), Counters.init(), Messages.init()]);
});

afterAll(async () => {
  await conn?.dropDatabase();
  await conn?.close();
  await store?.close();
});

describe('mongoose over the wire', () => {
  it('creates, reads, updates and deletes', async () => {
    const created = await Items.create({ name: 'pen', qty: 3, tags: ['office'] });
    expect(created._id).toBeInstanceOf(mongoose.Types.ObjectId);
    const found = await Items.findById(created._id).lean();
    expect(found).toMatchObject({ name: 'pen', qty: 3, tags: ['office'] });
    await Items.updateOne({ _id: created._id }, { $set: { qty: 4 }, $push: { tags: 'blue' } });
    expect(await Items.findOne({ name: 'pen' }).lean()).toMatchObject({ qty: 4, tags: ['office', 'blue'] });
    const doc = await Items.findById(created._id);
    if (!doc) throw new Error('missing');
    doc.qty = 9;
    await doc.save();
    expect((await Items.findById(created._id).lean())?.qty).toBe(9);
    const del = await Items.deleteOne({ _id: created._id });
    expect(del.deletedCount).toBe(1);
    expect(await Items.findById(created._id)).toBeNull();
  });

  it('sorts, skips, limits and projects', async () => {
    await Items.insertMany(
      Array.from({ length: 20 }, (_, i) => ({
        name: `s${String(i).padStart(2, '0')}`,
        qty: i % 5,
        tags: [],
        group: 'sort',
      })),
    );
    const page = await Items.find({ group: 'sort' })
      .sort({ qty: -1, name: 1 })
      .skip(2)
      .limit(5)
      .select({ name: 1, _id: 0 })
      .lean();
    expect(page).toEqual([
      { name: 's14' },
      { name: 's19' },
      { name: 's03' },
      { name: 's08' },
      { name: 's13' },
    ]);
    const excluded = await Items.findOne({ name: 's00' }).select('-tags -__v').lean();
    expect(excluded).not.toHaveProperty('tags');
    expect(excluded).toHaveProperty('qty', 0);
  });

  it('iterates a cursor over many batches', async () => {
    await Items.insertMany(
      Array.from({ length: 2500 }, (_, i) => ({ name: `c${i}`, qty: i, tags: [], group: 'cursor' })),
    );
    let count = 0;
    let sum = 0;
    for await (const d of Items.find({ group: 'cursor' }).sort({ qty: 1 }).batchSize(100).lean().cursor()) {
      expect(d.qty).toBe(count);
      count++;
      sum += d.qty;
    }
    expect(count).toBe(2500);
    expect(sum).toBe((2499 * 2500) / 2);
  });

  it('findOneAndUpdate upserts with $inc, $push and $set', async () => {
    const first = await Counters.findOneAndUpdate(
      { key: 'k1' },
      { $inc: { n: 2 }, $push: { log: 'a' }, $set: { label: 'x' }, $setOnInsert: { createdBy: 'test' } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    expect(first).toMatchObject({ key: 'k1', n: 2, log: ['a'], label: 'x', createdBy: 'test' });
    const second = await Counters.findOneAndUpdate(
      { key: 'k1' },
      { $inc: { n: 3 }, $push: { log: 'b' }, $setOnInsert: { createdBy: 'other' } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    expect(second).toMatchObject({ n: 5, log: ['a', 'b'], createdBy: 'test' });
    const before = await Counters.findOneAndUpdate(
      { key: 'k1' },
      { $inc: { n: 1 } },
      { returnDocument: 'before' },
    ).lean();
    expect(before?.n).toBe(5);
  });

  it('loses no update under 200 concurrent $inc', async () => {
    await Counters.create({ key: 'race', n: 0, log: [] });
    await Promise.all(
      Array.from({ length: 200 }, () => Counters.updateOne({ key: 'race' }, { $inc: { n: 1 } })),
    );
    expect((await Counters.findOne({ key: 'race' }).lean())?.n).toBe(200);
  });

  it('updateMany, deleteMany and distinct', async () => {
    await Items.insertMany([
      { name: 'm1', qty: 1, tags: ['a', 'b'], group: 'many' },
      { name: 'm2', qty: 2, tags: ['b', 'c'], group: 'many' },
      { name: 'm3', qty: 3, tags: ['c'], group: 'many' },
    ]);
    const upd = await Items.updateMany({ group: 'many', qty: { $gte: 2 } }, { $inc: { qty: 10 } });
    expect(upd.matchedCount).toBe(2);
    expect(upd.modifiedCount).toBe(2);
    expect((await Items.distinct('tags', { group: 'many' })).sort()).toEqual(['a', 'b', 'c']);
    expect((await Items.distinct('qty', { group: 'many' })).sort((a, b) => a - b)).toEqual([1, 12, 13]);
    const del = await Items.deleteMany({ group: 'many', qty: { $gt: 10 } });
    expect(del.deletedCount).toBe(2);
    expect(await Items.countDocuments({ group: 'many' })).toBe(1);
  });

  it('aggregates with $match, $group and $sort', async () => {
    await Items.insertMany([
      { name: 'g1', qty: 1, tags: [], group: 'agg-a' },
      { name: 'g2', qty: 2, tags: [], group: 'agg-a' },
      { name: 'g3', qty: 5, tags: [], group: 'agg-b' },
    ]);
    const rows = await Items.aggregate<{ _id: string; total: number; count: number }>([
      { $match: { group: { $in: ['agg-a', 'agg-b'] } } },
      { $group: { _id: '$group', total: { $sum: '$qty' }, count: { $sum: 1 } } },
      { $sort: { total: -1 } },
    ]);
    expect(rows).toEqual([
      { _id: 'agg-b', total: 5, count: 1 },
      { _id: 'agg-a', total: 3, count: 2 },
    ]);
  });

  it('runs bulkWrite', async () => {
    const res = await Items.bulkWrite([
      { insertOne: { document: { name: 'b1', qty: 1, tags: [] as string[], group: 'bulk' } } },
      { insertOne: { document: { name: 'b2', qty: 2, tags: [] as string[], group: 'bulk' } } },
      { updateOne: { filter: { name: 'b1' }, update: { $set: { qty: 10 } } } },
      { updateOne: { filter: { name: 'b9' }, update: { $set: { qty: 9, group: 'bulk' } }, upsert: true } },
      { deleteOne: { filter: { name: 'b2' } } },
      {
        replaceOne: {
          filter: { name: 'b1' },
          replacement: { name: 'b1', qty: 11, tags: ['r'], group: 'bulk' },
        },
      },
    ]);
    expect(res.insertedCount).toBe(2);
    expect(res.matchedCount).toBe(2);
    expect(res.modifiedCount).toBe(2);
    expect(res.upsertedCount).toBe(1);
    expect(res.deletedCount).toBe(1);
    const names = (await Items.find({ group: 'bulk' }).sort({ name: 1 }).lean()).map((d) => [d.name, d.qty]);
    expect(names).toEqual([
      ['b1', 11],
      ['b9', 9],
    ]);
  });

  it('reports E11000 with keyPattern and keyValue', async () => {
    await Items.create({ name: 'dup', qty: 1, tags: [] });
    const err: unknown = await Items.create({ name: 'dup', qty: 2, tags: [] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 11000, keyPattern: { name: 1 }, keyValue: { name: 'dup' } });
    expect(String((err as Error).message)).toMatch(
      /E11000 duplicate key error collection: .*items index: name_1 dup key/,
    );
    // An unordered insertMany stores everything else and reports the duplicate.
    const many: unknown = await Items.insertMany(
      [
        { name: 'u1', qty: 1, tags: [] },
        { name: 'dup', qty: 1, tags: [] },
        { name: 'u2', qty: 1, tags: [] },
      ],
      { ordered: false },
    ).catch((e: unknown) => e);
    expect(many).toMatchObject({ code: 11000 });
    expect(await Items.countDocuments({ name: { $in: ['u1', 'u2'] } })).toBe(2);
    // An ordered one stops at the duplicate.
    await Items.insertMany([
      { name: 'o1', qty: 1, tags: [] },
      { name: 'dup', qty: 1, tags: [] },
      { name: 'o2', qty: 1, tags: [] },
    ]).catch(() => undefined);
    expect(await Items.countDocuments({ name: { $in: ['o1', 'o2'] } })).toBe(1);
  });

  it('enforces a partial unique index only where the field exists', async () => {
    await Messages.create({ roomId: 'r1', seq: 1 });
    await Messages.create({ roomId: 'r1', seq: 2 });
    await Messages.create({ roomId: 'r1', seq: 3, clientId: 'c1' });
    await Messages.create({ roomId: 'r2', seq: 1, clientId: 'c1' });
    const err: unknown = await Messages.create({ roomId: 'r1', seq: 4, clientId: 'c1' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 11000, keyValue: { roomId: 'r1', clientId: 'c1' } });
    const seqDup: unknown = await Messages.create({ roomId: 'r1', seq: 2 }).catch((e: unknown) => e);
    expect(seqDup).toMatchObject({ code: 11000, keyValue: { roomId: 'r1', seq: 2 } });
    expect(await Messages.countDocuments({ roomId: 'r1' })).toBe(3);
  });
});
