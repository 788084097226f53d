import {
  Binary,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  MongoClient,
  ObjectId,
  Timestamp,
} from 'mongodb';
import type { Collection, Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, uniqueDbName } from './helpers.js';
import type { TestStore } from './helpers.js';

let store: TestStore;
let client: MongoClient;
let dbName: string;
let n = 0;

beforeAll(async () => {
  store = await openTestStore();
  dbName = uniqueDbName('semantics');
  client = await new MongoClient(store.url(dbName), { serverSelectionTimeoutMS: 5000 }).connect();
});

afterAll(async () => {
  await client?.db(dbName).dropDatabase();
  await client?.close();
  await store?.close();
});

/** Documents with any `_id` type (these tests use numbers as well as ObjectIds). */
interface AnyDoc extends Document {
  _id?: number | string | ObjectId;
}

function fresh(): Collection<AnyDoc> {
  n++;
  return client.db(dbName).collection<AnyDoc>(`c${n}`);
}

async function errorOf(p: Promise<unknown>): Promise<{ code?: number; message?: string }> {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!e) throw new Error('expected an error');
  return e as { code?: number; message?: string };
}

describe('update semantics', () => {
  it('applies $setOnInsert only when an upsert inserts', async () => {
    const c = fresh();
    await c.updateOne({ k: 1 }, { $set: { a: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    await c.updateOne({ k: 1 }, { $set: { a: 2 }, $setOnInsert: { created: false } }, { upsert: true });
    expect(await c.findOne({ k: 1 }, { projection: { _id: 0 } })).toEqual({ k: 1, a: 2, created: true });
  });

  it('puts _id first in new documents', async () => {
    const c = fresh();
    const r = await c.updateOne({ name: 'x' }, { $set: { v: 1 } }, { upsert: true });
    const d = await c.findOne({ _id: r.upsertedId as ObjectId });
    expect(Object.keys(d ?? {})[0]).toBe('_id');
    expect(d?._id).toBeInstanceOf(ObjectId);
  });

  it('supports $push/$addToSet with $each, $sort and $slice on a missing field', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1 });
    await c.updateOne({ _id: 1 }, {
      $push: { top: { $each: [5, 1, 9, 3], $sort: -1, $slice: 3 } },
    } as Document);
    await c.updateOne({ _id: 1 }, {
      $push: { recent: { $each: [{ t: 2 }, { t: 1 }], $sort: { t: 1 }, $slice: -5 } },
    } as Document);
    await c.updateOne({ _id: 1 }, { $addToSet: { set: { $each: ['a', 'b', 'a'] } } });
    await c.updateOne({ _id: 1 }, { $addToSet: { set: 'b' } });
    expect(await c.findOne({ _id: 1 })).toEqual({
      _id: 1,
      top: [9, 5, 3],
      recent: [{ t: 1 }, { t: 2 }],
      set: ['a', 'b'],
    });
  });

  it('fails $inc on a non-number instead of ignoring it', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1, s: 'text' });
    const e = await errorOf(c.updateOne({ _id: 1 }, { $inc: { s: 1 } }));
    expect(e.code).toBe(14);
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, s: 'text' });
  });

  it('fails a path through a scalar', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1, a: 5 });
    const e = await errorOf(c.updateOne({ _id: 1 }, { $set: { 'a.b': 1 } }));
    expect(e.code).toBe(28);
  });

  it('refuses to change _id with 66 ImmutableField', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1, a: 1 });
    expect((await errorOf(c.updateOne({ _id: 1 }, { $set: { _id: 2 } }))).code).toBe(66);
    expect((await errorOf(c.replaceOne({ _id: 1 }, { _id: 3, a: 2 }))).code).toBe(66);
    await c.replaceOne({ _id: 1 }, { a: 3 });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, a: 3 });
  });

  it('increments and compares Long and Decimal128 exactly', async () => {
    const c = fresh();
    const big = Long.fromString('9007199254740993');
    await c.insertOne({ _id: 1, l: big, d: Decimal128.fromString('0.1'), i: new Int32(2147483647) });
    await c.updateOne({ _id: 1 }, { $inc: { l: Long.fromNumber(2), d: Decimal128.fromString('0.2'), i: 1 } });
    const d = await c.findOne({ _id: 1 } as Document, { promoteLongs: false });
    expect(String(d?.l)).toBe('9007199254740995');
    expect(d?.d).toBeInstanceOf(Decimal128);
    expect(String(d?.d)).toBe('0.3');
    expect(String(d?.i)).toBe('2147483648');
    expect(await c.countDocuments({ l: { $gt: Long.fromString('9007199254740994') } })).toBe(1);
    expect(await c.countDocuments({ l: { $gt: 9007199254740000 } })).toBe(1);
    expect(await c.countDocuments({ d: { $gt: 0.25, $lt: new Double(0.35) } })).toBe(1);
    expect(await c.countDocuments({ d: Decimal128.fromString('0.30') })).toBe(1);
  });

  it('updates array elements with arrayFilters, $ and $[]', async () => {
    const c = fresh();
    await c.insertOne({
      _id: 1,
      items: [
        { k: 'a', v: 1 },
        { k: 'b', v: 2 },
        { k: 'c', v: 3 },
      ],
      nums: [1, 2, 3],
    });
    await c.updateOne(
      { _id: 1 },
      { $set: { 'items.$[big].flag': true } },
      { arrayFilters: [{ 'big.v': { $gte: 2 } }] },
    );
    await c.updateOne({ _id: 1, 'items.k': 'a' }, { $inc: { 'items.$.v': 10 } });
    await c.updateOne({ _id: 1 }, { $mul: { 'nums.$[]': 2 } });
    expect(await c.findOne({ _id: 1 })).toEqual({
      _id: 1,
      items: [
        { k: 'a', v: 11 },
        { k: 'b', v: 2, flag: true },
        { k: 'c', v: 3, flag: true },
      ],
      nums: [2, 4, 6],
    });
  });

  it('runs pipeline updates', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1, a: 2, b: 3 });
    await c.updateOne({ _id: 1 }, [{ $set: { sum: { $add: ['$a', '$b'] } } }, { $unset: 'b' }]);
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, a: 2, sum: 5 });
  });

  it('applies $unset, $rename, $min, $max, $pull, $pop and $currentDate', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1, a: 1, b: 2, lo: 5, hi: 5, arr: [1, 2, 3, 2], q: [1, 2, 3] });
    await c.updateOne({ _id: 1 }, {
      $unset: { a: '' },
      $rename: { b: 'c' },
      $min: { lo: 3 },
      $max: { hi: 9 },
      $pull: { arr: 2 },
      $pop: { q: -1 },
      $currentDate: { at: true },
    } as Document);
    const d = await c.findOne({ _id: 1 });
    expect(d).toMatchObject({ _id: 1, c: 2, lo: 3, hi: 9, arr: [1, 3], q: [2, 3] });
    expect(d).not.toHaveProperty('a');
    expect(d?.at).toBeInstanceOf(Date);
  });
});

describe('query semantics', () => {
  it('sorts across types in BSON order', async () => {
    const c = fresh();
    const oid = new ObjectId();
    const values: unknown[] = [
      new MaxKey(),
      /re/,
      new Timestamp({ t: 1, i: 1 }),
      new Date(0),
      true,
      oid,
      new Binary(Buffer.from([1])),
      [3],
      { o: 1 },
      'str',
      2,
      null,
      new MinKey(),
    ];
    await c.insertMany(values.map((v, i) => ({ i, v }) as AnyDoc));
    const order = (
      await c
        .find({}, { projection: { _id: 0, i: 1 } })
        .sort({ v: 1, i: 1 })
        .toArray()
    ).map((d) => d.i as number);
    // MinKey, null, numbers (2 and the array [3] by its element), string, object, binData, ObjectId, bool, date, timestamp, regex, MaxKey.
    expect(order).toEqual([12, 11, 10, 7, 9, 8, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('matches ObjectId, Date and Binary by value', async () => {
    const c = fresh();
    const id = new ObjectId();
    const when = new Date('2024-01-02T03:04:05Z');
    await c.insertOne({ ref: id, when, bin: new Binary(Buffer.from('abc')) });
    expect(await c.countDocuments({ ref: new ObjectId(id.toHexString()) })).toBe(1);
    expect(await c.countDocuments({ when: new Date(when.getTime()) })).toBe(1);
    expect(await c.countDocuments({ bin: new Binary(Buffer.from('abc')) })).toBe(1);
    expect(await c.countDocuments({ ref: { $in: [new ObjectId(), new ObjectId(id.toHexString())] } })).toBe(
      1,
    );
    expect(
      await c.countDocuments({ when: { $gte: new Date('2024-01-01'), $lt: new Date('2024-01-03') } }),
    ).toBe(1);
  });

  it('matches arrays, nested paths, $elemMatch, $exists, $regex and $or', async () => {
    const c = fresh();
    await c.insertMany([
      {
        _id: 1,
        tags: ['a', 'b'],
        sub: { x: 1 },
        list: [
          { p: 1, q: 'x' },
          { p: 2, q: 'y' },
        ],
      },
      { _id: 2, tags: ['c'], sub: { x: 2 }, name: 'Alpha' },
      { _id: 3, name: 'beta' },
    ]);
    const ids = async (f: Document): Promise<unknown[]> =>
      (await c.find(f).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids({ tags: 'b' })).toEqual([1]);
    expect(await ids({ 'sub.x': { $gte: 1 } })).toEqual([1, 2]);
    expect(await ids({ list: { $elemMatch: { p: 2, q: 'y' } } })).toEqual([1]);
    expect(await ids({ 'list.p': 2 })).toEqual([1]);
    expect(await ids({ name: { $exists: false } })).toEqual([1]);
    expect(await ids({ name: { $regex: '^a', $options: 'i' } })).toEqual([2]);
    expect(await ids({ $or: [{ _id: 3 }, { tags: 'c' }] })).toEqual([2, 3]);
    expect(await ids({ name: null })).toEqual([1]);
    expect(await ids({ tags: { $nin: ['a', 'c'] } })).toEqual([3]);
  });

  it('aggregates with $unwind, $lookup, $project and $count', async () => {
    const orders = fresh();
    const users = client.db(dbName).collection<AnyDoc>(`users${n}`);
    await users.insertMany([
      { _id: 'u1', name: 'Ann' },
      { _id: 'u2', name: 'Bo' },
    ]);
    await orders.insertMany([
      { user: 'u1', items: ['a', 'b'] },
      { user: 'u2', items: ['c'] },
    ]);
    const rows = await orders
      .aggregate([
        { $unwind: '$items' },
        { $lookup: { from: users.collectionName, localField: 'user', foreignField: '_id', as: 'u' } },
        { $project: { _id: 0, item: '$items', name: { $arrayElemAt: ['$u.name', 0] } } },
        { $sort: { item: 1 } },
      ])
      .toArray();
    expect(rows).toEqual([
      { item: 'a', name: 'Ann' },
      { item: 'b', name: 'Ann' },
      { item: 'c', name: 'Bo' },
    ]);
    expect(await orders.aggregate([{ $unwind: '$items' }, { $count: 'n' }]).toArray()).toEqual([{ n: 3 }]);
  });
});
