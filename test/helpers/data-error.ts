import { expect } from "vitest";
import { DataError } from "../../runtime/types.js";

/** The DataError thrown by f (fails the test when nothing or something else is thrown). */
export function dataError(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error("expected a DataError");
}
