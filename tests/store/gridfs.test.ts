import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GridFSBucket, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, uniqueDbName } from './helpers.js';
import type { TestStore } from './helpers.js';

let store: TestStore;
let client: MongoClient;
let dbName: string;

beforeAll(async () => {
  store = await openTestStore();
  dbName = uniqueDbName('gridfs');
  client = await new MongoClient(store.url(dbName), { serverSelectionTimeoutMS: 5000 }).connect();
});

afterAll(async () => {
  await client?.db(dbName).dropDatabase();
  await client?.close();
  await store?.close();
});

describe('GridFS', () => {
  it('round-trips a 6 MiB file byte for byte', async () => {
    const bucket = new GridFSBucket(client.db(dbName), { bucketName: 'files' });
    const data = randomBytes(6 * 1024 * 1024);
    const upload = bucket.openUploadStream('big.bin', { metadata: { owner: 'u1' } });
    await pipeline(Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]), upload);
    const id = upload.id;

    const files = await bucket.find({ filename: 'big.bin' }).toArray();
    expect(files).toHaveLength(1);
    expect(files[0]?.length).toBe(data.length);

    const chunks: Buffer[] = [];
    for await (const chunk of bucket.openDownloadStream(id)) chunks.push(chunk as Buffer);
    const back = Buffer.concat(chunks);
    expect(back.length).toBe(data.length);
    expect(createHash('sha256').update(back).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );

    // A ranged read.
    const part: Buffer[] = [];
    for await (const chunk of bucket.openDownloadStream(id, { start: 300_000, end: 300_100 }))
      part.push(chunk as Buffer);
    expect(Buffer.concat(part).equals(data.subarray(300_000, 300_100))).toBe(true);

    await bucket.delete(id);
    expect(await bucket.find({ _id: id }).toArray()).toHaveLength(0);
    expect(await client.db(dbName).collection('files.chunks').countDocuments({ files_id: id })).toBe(0);
  });
});
