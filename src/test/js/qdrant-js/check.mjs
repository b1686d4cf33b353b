// Exercises trisync's embedded Qdrant server with Qdrant's official JavaScript gRPC client.
// Usage: node check.mjs <port>. Prints one JSON line of results; exits 1 with a reason on the first mismatch.
import { QdrantClient, Distance } from '@qdrant/js-client-grpc';

const port = Number(process.argv[2]);
const client = new QdrantClient({ host: '127.0.0.1', port, checkCompatibility: false });
const collections = client.api('collections');
const points = client.api('points');

function expect(condition, what) {
  if (!condition) {
    console.error('MISMATCH: ' + what);
    process.exit(1);
  }
}

const num = (n) => ({ pointIdOptions: { case: 'num', value: BigInt(n) } });
const uuid = (u) => ({ pointIdOptions: { case: 'uuid', value: u } });
const keyword = (key, value) => ({
  conditionOneOf: { case: 'field', value: { key, match: { matchValue: { case: 'keyword', value } } } },
});
const dense = (data) => ({ vectorsOptions: { case: 'vector', value: { vector: { case: 'dense', value: { data } } } } });
const str = (s) => ({ kind: { case: 'stringValue', value: s } });

const name = 'js-check-' + process.pid;
await collections.create({
  collectionName: name,
  vectorsConfig: { config: { case: 'params', value: { size: 3n, distance: Distance.Cosine } } },
});
const exists = await collections.collectionExists({ collectionName: name });
expect(exists.result.exists === true, 'collection exists after create');

const U1 = '5c56c793-69f3-4fbf-87e6-c4bf54c28c26';
await points.upsert({
  collectionName: name,
  wait: true,
  points: [
    { id: num(1), vectors: dense([1, 0, 0]), payload: { color: str('red') } },
    { id: num(2), vectors: dense([0, 1, 0]), payload: { color: str('blue') } },
    { id: uuid(U1), vectors: dense([1, 1, 0]), payload: { color: str('red') } },
  ],
});

const count = await points.count({ collectionName: name, exact: true, filter: { must: [keyword('color', 'red')] } });
expect(count.result.count === 2n, 'count of red points is 2, got ' + count.result.count);

const page1 = await points.scroll({ collectionName: name, limit: 2, withPayload: { selectorOptions: { case: 'enable', value: true } } });
expect(page1.result.length === 2, 'first scroll page has 2 points');
expect(page1.result[0].id.pointIdOptions.value === 1n, 'numeric ids come first');
expect(page1.nextPageOffset?.pointIdOptions.value === U1, 'next page starts at the uuid');
const page2 = await points.scroll({ collectionName: name, limit: 2, offset: page1.nextPageOffset });
expect(page2.result.length === 1 && page2.nextPageOffset === undefined, 'second page is the last');

const hits = await points.search({ collectionName: name, vector: [1, 0, 0], limit: 3n });
expect(hits.result.map((h) => String(h.id.pointIdOptions.value)).join(',') === '1,' + U1 + ',2', 'search order');
expect(Math.abs(hits.result[1].score - Math.SQRT1_2) < 1e-5, 'cosine score of the uuid point is 1/sqrt(2)');

await points.delete({ collectionName: name, wait: true, points: { pointsSelectorOneOf: { case: 'filter', value: { must: [keyword('color', 'red')] } } } });
const left = await points.count({ collectionName: name, exact: true });
expect(left.result.count === 1n, 'one point left after deleting red ones');

await collections.delete({ collectionName: name });
console.log(JSON.stringify({ ok: true, searched: hits.result.length }));
