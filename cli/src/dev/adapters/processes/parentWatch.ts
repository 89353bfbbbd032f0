/**
 * Aborts when this process's parent goes away. `npm start` runs us through `sh -c`: a SIGTERM to
 * npm kills that shell and leaves us running with no signal of our own, so losing the parent
 * must count as a stop request too.
 */
export function parentGone(intervalMs = 500): AbortSignal {
  const controller = new AbortController();
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      controller.abort(new Error("the parent process exited"));
    }
  }, intervalMs);
  timer.unref();
  return controller.signal;
}
