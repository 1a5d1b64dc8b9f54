/**
 * Everything the chaos run starts registers a synchronous undo here, so it is torn down on a
 * normal end, a thrown error, Ctrl-C or SIGTERM alike. Undos run newest first, each at most once.
 */
const undos: { name: string; run: () => void }[] = [];
let installed = false;

export function onCleanup(name: string, run: () => void): () => void {
  install();
  const entry = { name, run };
  undos.push(entry);
  return () => {
    const i = undos.indexOf(entry);
    if (i >= 0) undos.splice(i, 1);
  };
}

export function cleanupAll(): void {
  while (undos.length > 0) {
    const entry = undos.pop();
    try {
      entry?.run();
    } catch (e) {
      console.error(`cleanup of ${entry?.name} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      cleanupAll();
      process.exit(130);
    });
  }
}
