/**
 * An HTTP error that a page can explain in the reader's language: the
 * English message serves logs and JSON answers, the problem the error page.
 *
 * @module
 */

import { HTTPException } from "hono/http-exception";
import type { PageProblem } from "../templates/messages.ts";

/** A 400 or 404 whose cause the error page can put in words. */
export class PageError extends HTTPException {
  readonly problem: PageProblem;

  constructor(status: 400 | 404, message: string, problem: PageProblem) {
    super(status, { message });
    this.problem = problem;
  }
}
