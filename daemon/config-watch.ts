import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import path from 'node:path';
import type { KnowledgeBase } from '../knowledge/knowledge-base.js';
import { anonymizationColumnProblems } from '../knowledge/marketplace/anonymization-columns.js';
import { loadMarketplaceFile } from '../knowledge/marketplace/load-marketplace.js';
import type { Clock } from '../knowledge/ports/clock.js';
import type { Logger } from '../knowledge/ports/logger.js';

/**
 * Reloads the marketplace config when its file changes: a valid edit becomes a new policy revision
 * (and the background loop checks running work against it at once); an invalid one is refused
 * with its problems logged, and the policy in force stays. Watches the directory, so editors that
 * replace the file by renaming are seen too.
 */
export class ConfigWatch {
  private watcher: FSWatcher | undefined;
  private timer: unknown;
  private reloading: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly dataDir: string | undefined,
    private readonly deps: { knowledge: KnowledgeBase; clock: Clock; logger: Logger; debounceMs?: number; onReload?: () => void },
  ) {}

  start(): void {
    const base = path.basename(this.file);
    this.watcher = watch(path.dirname(path.resolve(this.file)), (_, name) => {
      if (name !== null && name !== base) return;
      if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
      this.timer = this.deps.clock.setTimeout(() => {
        this.timer = undefined;
        this.reloading = this.reloading.then(() => this.reload());
      }, this.deps.debounceMs ?? 200);
    });
  }

  /** Loads the file now; what a change of the file triggers. */
  async reload(): Promise<void> {
    const result = await loadMarketplaceFile(this.file, this.dataDir);
    const current = this.deps.knowledge.current().marketplace;
    const problems = result.ok ? await anonymizationColumnProblems(result.marketplace) : result.problems;
    if (!result.ok || problems.length > 0) {
      this.deps.logger.error('the edited marketplace config is invalid; the policy in force stays', {
        file: this.file,
        revision: current.revision,
        problems: problems.map((p) => `${p.path}: ${p.message}`),
      });
      return;
    }
    if (result.marketplace.revision === current.revision) return;
    this.deps.knowledge.apply({ kind: 'marketplaceChanged', marketplace: result.marketplace, at: this.deps.clock.now() });
    this.deps.logger.warn('the marketplace config changed', { file: this.file, from: current.revision, to: result.marketplace.revision });
    this.deps.onReload?.();
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    await this.reloading;
  }
}
