import type { Document } from 'bson';
import type { Catalog } from './catalog.js';
import type { PlanInfo } from './collection.js';
import { cursorBatchSize, doc, num, str } from './command-args.js';
import type { Cursors } from './cursors.js';
import { fail } from './errors.js';
import { aggregate, idFirst, parseSort, project } from './query.js';
import { cloneDoc, isPlainObject, keyString, pathValues } from './values.js';

/** find, aggregate, count, distinct and explain. */
export class ReadCommands {
  constructor(
    private readonly catalog: Catalog,
    private readonly cursors: Cursors,
  ) {}

  private runFind(db: string, cmd: Document): { ns: string; docs: Document[]; plan: PlanInfo | undefined } {
    const name = str(cmd.find, 'find');
    const ns = `${db}.${name}`;
    const c = this.catalog.get(db, name);
    if (cmd.tailable === true) fail(2, 'tailable cursors are not supported');
    if (!c) return { ns, docs: [], plan: undefined };
    const limit = Math.abs(num(cmd.limit, 0));
    const skip = num(cmd.skip, 0);
    if (skip < 0) fail(2, 'skip must be non-negative');
    const r = c.query(doc(cmd.filter), parseSort(cmd.sort), limit, skip, cmd.hint);
    return { ns, docs: project(r.docs, cmd.projection), plan: r.plan };
  }

  find(db: string, cmd: Document): Document {
    const { ns, docs } = this.runFind(db, cmd);
    const limit = num(cmd.limit, 0);
    const single = cmd.singleBatch === true || limit < 0;
    return this.cursors.reply(ns, docs, num(cmd.batchSize, 101), single);
  }

  private runAggregate(
    db: string,
    cmd: Document,
  ): { ns: string; docs: Document[]; plan: PlanInfo | undefined } {
    const target: unknown = cmd.aggregate;
    const pipeline = cmd.pipeline;
    if (!Array.isArray(pipeline)) fail(14, "'pipeline' option must be specified as an array");
    for (const stage of pipeline as Document[]) {
      const k = Object.keys(stage)[0];
      if (k === '$out' || k === '$merge') fail(115, `${k} is not supported by this store`);
    }
    const name = typeof target === 'string' ? target : '$cmd.aggregate';
    const ns = `${db}.${name}`;
    const c = typeof target === 'string' ? this.catalog.get(db, target) : undefined;
    let stages = pipeline as Document[];
    let input: Document[] = [];
    let plan: PlanInfo | undefined;
    if (c) {
      const first = stages[0];
      if (first && isPlainObject(first.$match)) {
        const r = c.query(first.$match, [], 0, 0);
        input = r.docs;
        plan = r.plan;
        stages = stages.slice(1);
      } else input = [...c.docs.values()];
    }
    const resolver = (other: string): Document[] => [...(this.catalog.get(db, other)?.docs.values() ?? [])];
    const copies = stages.length > 0 ? input.map((d) => cloneDoc(d)) : input;
    const docs = stages.length > 0 ? idFirst(aggregate(copies, stages, resolver)) : copies;
    return { ns, docs, plan };
  }

  aggregate(db: string, cmd: Document): Document {
    if (cmd.explain === true) {
      const { ns, docs, plan } = this.runAggregate(db, cmd);
      return this.explainReply(ns, cmd.pipeline, docs.length, plan, 0);
    }
    if (!isPlainObject(cmd.cursor)) fail(9, "The 'cursor' option is required");
    const { ns, docs } = this.runAggregate(db, cmd);
    return this.cursors.reply(ns, docs, cursorBatchSize(cmd, 101), false);
  }

  count(db: string, cmd: Document): Document {
    const name = str(cmd.count, 'count');
    const c = this.catalog.get(db, name);
    if (!c) return { n: 0, ok: 1 };
    const q = doc(cmd.query);
    const skip = num(cmd.skip, 0);
    const limit = Math.abs(num(cmd.limit, 0));
    if (Object.keys(q).length === 0) {
      const total = Math.max(0, c.docs.size - skip);
      return { n: limit > 0 ? Math.min(limit, total) : total, ok: 1 };
    }
    return { n: c.query(q, [], limit, skip).docs.length, ok: 1 };
  }

  distinct(db: string, cmd: Document): Document {
    const name = str(cmd.distinct, 'distinct');
    const key = str(cmd.key, 'key');
    const c = this.catalog.get(db, name);
    if (!c) return { values: [], ok: 1 };
    const docs = c.query(doc(cmd.query), [], 0, 0).docs;
    const seen = new Map<string, unknown>();
    for (const d of docs) {
      for (const v of pathValues(d, key.split('.'))) {
        if (v === undefined) continue;
        for (const x of Array.isArray(v) ? v : [v]) {
          const k = keyString(x);
          if (!seen.has(k)) seen.set(k, x);
        }
      }
    }
    return { values: [...seen.values()], ok: 1 };
  }

  explain(db: string, cmd: Document): Document {
    const inner = doc(cmd.explain);
    const kind = Object.keys(inner)[0];
    const innerDb = typeof inner.$db === 'string' ? inner.$db : db;
    const t0 = performance.now();
    if (kind === 'find') {
      const { ns, docs, plan } = this.runFind(innerDb, inner);
      return this.explainReply(ns, inner.filter ?? {}, docs.length, plan, performance.now() - t0);
    }
    if (kind === 'aggregate') {
      const { ns, docs, plan } = this.runAggregate(innerDb, inner);
      return this.explainReply(ns, inner.pipeline, docs.length, plan, performance.now() - t0);
    }
    if (kind === 'count') {
      const name = str(inner.count, 'count');
      const c = this.catalog.get(innerDb, name);
      const r = c?.query(doc(inner.query), [], 0, 0);
      return this.explainReply(
        `${innerDb}.${name}`,
        inner.query ?? {},
        r?.docs.length ?? 0,
        r?.plan,
        performance.now() - t0,
      );
    }
    fail(2, `explain is not supported for ${kind ?? 'this command'}`);
  }

  private explainReply(
    ns: string,
    parsed: unknown,
    nReturned: number,
    plan: PlanInfo | undefined,
    ms: number,
  ): Document {
    const winningPlan: Document = plan?.index
      ? {
          stage: 'FETCH',
          inputStage: {
            stage: 'IXSCAN',
            keyPattern: plan.keyPattern,
            indexName: plan.index,
            direction: plan.direction,
            isMultiKey: false,
          },
        }
      : { stage: 'COLLSCAN', direction: 'forward' };
    if (plan?.index && !plan.sortedByIndex) winningPlan.sortStage = 'SORT';
    return {
      explainVersion: '1',
      queryPlanner: { namespace: ns, parsedQuery: parsed ?? {}, winningPlan, rejectedPlans: [] },
      executionStats: {
        executionSuccess: true,
        nReturned,
        executionTimeMillis: Math.round(ms),
        totalKeysExamined: plan?.keysExamined ?? 0,
        totalDocsExamined: plan?.docsExamined ?? 0,
      },
      serverInfo: { host: 'localhost', port: 0, version: '7.0.0' },
      ok: 1,
    };
  }
}
