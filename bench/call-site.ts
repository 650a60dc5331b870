/**
 * A function made from `source` (an arrow function taking the closure's variables) with a code
 * object of its own, so that the module call inside has a call site of its own. A closure written
 * once in the harness is one call site for every network's module: polymorphic, so V8 does not
 * inline the call, and the loss it returns is boxed — 16 bytes per call that a program training
 * one model (a monomorphic call, inlined) does not allocate.
 */
export function ownCallSite<F>(source: string): (...args: unknown[]) => F {
  return new Function(`return ${source};`)() as (...args: unknown[]) => F;
}
