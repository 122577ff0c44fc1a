/**
 * A prepared statement of the SQLite database that survives the database
 * leaving its file for another (see `SqliteDatabase.follow`): prepared
 * again on the new connection, its errors explained as StoreErrors.
 *
 * @module
 */

import type {
  DatabaseSync,
  SQLInputValue,
  StatementResultingChanges,
  StatementSync,
} from "node:sqlite";
import type { Row } from "./rows.ts";

/** What a statement is prepared on: the connection open now. */
export interface StatementOwner {
  /** The connection to use now, numbered: a new number is a new one. */
  connection(): { readonly db: DatabaseSync; readonly generation: number };
  /** SQLite's error as the StoreError to throw. */
  explain(error: unknown): unknown;
}

/** The values a statement is run with. */
type Params = SQLInputValue[];

/**
 * A statement of the database: prepared on the connection open now, and
 * again on the next one when the database follows its path to another
 * file. Its errors are {@linkcode StoreError}s.
 */
export class Statement {
  readonly #sql: string;
  readonly #owner: StatementOwner;
  #prepared: StatementSync;
  #generation: number;

  constructor(owner: StatementOwner, sql: string) {
    this.#owner = owner;
    this.#sql = sql;
    const connection = owner.connection();
    this.#prepared = connection.db.prepare(sql);
    this.#generation = connection.generation;
  }

  /** The first row, or undefined. */
  get(...params: Params): Row | undefined {
    try {
      return this.#statement().get(...params);
    } catch (error) {
      throw this.#owner.explain(error);
    }
  }

  /** Every row. */
  all(...params: Params): Row[] {
    try {
      return this.#statement().all(...params);
    } catch (error) {
      throw this.#owner.explain(error);
    }
  }

  /** Runs it; says how many rows changed. */
  run(...params: Params): StatementResultingChanges {
    try {
      return this.#statement().run(...params);
    } catch (error) {
      throw this.#owner.explain(error);
    }
  }

  #statement(): StatementSync {
    const connection = this.#owner.connection();
    if (connection.generation !== this.#generation) {
      this.#prepared = connection.db.prepare(this.#sql);
      this.#generation = connection.generation;
    }
    return this.#prepared;
  }
}
