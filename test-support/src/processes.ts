/** Whether a process with this PID exists (a zombie counts until it is reaped). */
export function isAlive(pid: number): boolean {
  // `process.kill(NaN, 0)` throws: an unknown PID must never read as "gone".
  if (!Number.isInteger(pid) || pid === 0) throw new Error(`not a process ID: ${pid}`);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether any process is left in the process group `pgid`. */
export function groupAlive(pgid: number): boolean {
  return isAlive(-pgid);
}
