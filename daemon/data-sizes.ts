import { stat } from 'node:fs/promises';
import { dataKey } from '../knowledge/knowledge-snapshot.js';
import type { Marketplace } from '../knowledge/marketplace/load-marketplace.js';
import { tableFile } from '../knowledge/marketplace/load-marketplace.js';

/**
 * Bytes of each steward's datasets (`${steward}/${dataset}` → the sum of its table files), so
 * strategies can predict work from data size. A file that cannot be read is left out.
 */
export async function datasetSizes(m: Marketplace): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  await Promise.all(
    Object.entries(m.dataStewards).flatMap(([steward, s]) =>
      Object.entries(s.datasets).map(async ([dataset, held]) => {
        const bytes = await Promise.all(Object.values(held.tables).map((f) => stat(tableFile(m, f)).then((st) => st.size, () => undefined)));
        if (bytes.every((b) => b !== undefined)) sizes[dataKey(steward, dataset)] = bytes.reduce((sum: number, b) => sum + (b as number), 0);
      }),
    ),
  );
  return sizes;
}
